"""Issuer profiles: the awarding bodies, their did:web identifiers and signing keys."""
