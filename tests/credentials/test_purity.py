"""The credential core stays pure: no web framework, database or HTTP client, no other
microcred package. Checked on the source (every import statement), not by importing it."""

from __future__ import annotations

import ast
from pathlib import Path

import microcred.credentials as core

CORE = Path(core.__file__).parent
FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "alembic", "httpx", "requests", "urllib.request",
             "aiohttp", "asyncpg", "aiosqlite", "uvicorn", "socket", "http.client")


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays inside microcred.credentials
                continue
            found.append((node.module or "", node.lineno))
    return found


class TestCoreIsPure:
    def test_core_has_modules_to_check(self):
        assert len(list(CORE.rglob("*.py"))) >= 15

    def test_no_forbidden_imports(self):
        offenders = []
        for path in CORE.rglob("*.py"):
            for name, line in _imports(path):
                if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN):
                    offenders.append(f"{path.relative_to(CORE)}:{line} imports {name}")
                if name.startswith("microcred.") and not name.startswith("microcred.credentials"):
                    offenders.append(f"{path.relative_to(CORE)}:{line} imports {name}")
        assert offenders == []

    def test_public_surface_is_pinned(self):
        assert sorted(core.__all__) == sorted(
            [
                "CONTEXTS", "CanonicalizationError", "Check", "ContextError", "CredentialError", "DEFAULT_SUITE",
                "DocumentLoader", "Ed25519KeyPair", "KeyFormatError", "MalformedError", "PresentationReport", "ProofError",
                "ResolutionError", "ResolvedKey", "Resolver", "SUITES", "Signer", "UndefinedTermError",
                "VerificationReport", "Verifier", "add_proof", "canonicalize_jcs", "canonicalize_rdfc",
                "did_key_document", "did_key_from_public", "issue", "issue_credential", "verify", "verify_presentation",
                "verify_proof",
            ]
        )
        for name in core.__all__:
            assert getattr(core, name) is not None
