"""Revocation and suspension: W3C Bitstring Status Lists, served publicly and signed."""
