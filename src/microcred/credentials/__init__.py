"""The credential core: OB 3.0 / VC 2.0 data model, offline JSON-LD, Data Integrity proofs,
VC-JWT, Bitstring Status List and verification. Imports no web framework, database or HTTP
client (tests/credentials/test_purity.py enforces it)."""
