"""Achievement definitions with the EU micro-credential elements, published as immutable versions."""
