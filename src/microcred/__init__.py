"""microcred: an Open Badges 3.0 / W3C Verifiable Credentials issuer for microcredentials."""

__version__ = "0.1.0"
