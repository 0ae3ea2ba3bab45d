"""Verifying any credential for anyone: by URL, as a file (JSON-LD, VC-JWT, baked PNG or SVG, PDF), or pasted."""
