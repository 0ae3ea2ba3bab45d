"""The ``microcred`` command: keys, sign and verify from the shell.

Exit codes: 0 success (verify: the credential is valid), 1 verify: not valid, 2 unusable input or
configuration (a message on stderr says what to fix; never a traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from .credentials import DEFAULT_SUITE, SUITES, CredentialError, DocumentLoader, Resolver, issue, strict_json, verify
from .credentials.issue import check_before_signing
from .credentials.resolve import ResolvedKey, resolved_from_published
from .credentials.vc_jwt import encode_vc_jwt
from .credentials.verify import Check, VerificationReport
from .keystore import PASSPHRASE_ENV, FileKeyStore, KeyStoreError, ensure_development_key
from .service_cli import CommandError, add_service_commands
from .verification.uploads import credential_from_bytes

KEYS_DIR_ENV = "MICROCRED_KEYS_DIR"
JWT_SUITE = "vc-jwt"


class UsageError(Exception):
    """Bad input or configuration: exit 2 with this message."""


def _fail(message: str) -> NoReturn:
    raise UsageError(message)


def _keys_dir(args: argparse.Namespace) -> Path:
    return Path(args.keys_dir or os.environ.get(KEYS_DIR_ENV) or "keys")


def _dev_passphrase_hint(keys_dir: Path) -> str:
    """How to use the passphrase `make run` generated, when there is one."""
    dev = keys_dir / ".dev-passphrase"
    if dev.exists():
        return f"\n  The development key from `make run` opens with: export {PASSPHRASE_ENV}=\"$(cat {dev})\""
    return ""


def _passphrase(keys_dir: Path) -> str:
    value = os.environ.get(PASSPHRASE_ENV, "")
    if not value:
        hint = _dev_passphrase_hint(keys_dir) or (
            f"\n  For a local trial: export {PASSPHRASE_ENV}=\"$(python3 -c 'import secrets; print(secrets.token_hex(16))')\""
        )
        _fail(
            f"{PASSPHRASE_ENV} is not set: private keys are encrypted at rest with it.{hint}\n"
            "  In production: inject it from your secret manager."
        )
    return value


def _store(args: argparse.Namespace) -> FileKeyStore:
    return FileKeyStore(_keys_dir(args), passphrase=_passphrase(_keys_dir(args)))


def _read_input(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        return Path(path).read_text("utf-8")
    except FileNotFoundError:
        _fail(f"no such file: {path}")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {exc}")


def _read_json(path: str) -> dict[str, Any]:
    text = _read_input(path)
    try:
        value = strict_json.loads(text)
    except ValueError as exc:
        _fail(f"{path} is not JSON: {exc}")
    if not isinstance(value, dict):
        _fail(f"{path} must hold a JSON object (a credential)")
    return value


# -- keys --------------------------------------------------------------------------------------


def cmd_keys_generate(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    if args.issuer:
        key = _store(args).generate(args.issuer, now=now)
    else:
        key = ensure_development_key(_keys_dir(args), passphrase=_passphrase(_keys_dir(args)), now=now)
    print(json.dumps({"issuer": key.controller, "verificationMethod": key.id, "publicKeyMultibase": key.public_key_multibase}, indent=2))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    key = _store(args).rotate(args.issuer, now=datetime.now(UTC))
    print(json.dumps({"issuer": key.controller, "verificationMethod": key.id, "publicKeyMultibase": key.public_key_multibase}, indent=2))
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    store = _store(args)
    out = []
    for issuer in store.issuers():
        for key in store.published_keys(issuer):
            out.append(
                {
                    "issuer": issuer,
                    "verificationMethod": key.id,
                    "validFrom": key.valid_from.isoformat() if key.valid_from else None,
                    "validUntil": key.valid_until.isoformat() if key.valid_until else None,
                }
            )
    print(json.dumps(out, indent=2))
    return 0


# -- sign / verify -----------------------------------------------------------------------------


def _fill_issuer(credential: dict[str, Any], issuer: str) -> dict[str, Any]:
    """Give an issuer without an id the signing key's DID (the sample credential relies on it)."""
    current = credential.get("issuer")
    if current is None:
        return {**credential, "issuer": issuer}
    if isinstance(current, dict) and "id" not in current:
        return {**credential, "issuer": {"id": issuer, **current}}
    return credential


def cmd_sign(args: argparse.Namespace) -> int:
    credential = _read_json(args.file)
    store = _store(args)
    issuer = args.key or ensure_development_key(_keys_dir(args), passphrase=_passphrase(_keys_dir(args))).controller
    signer = store.signer(issuer)
    credential = _fill_issuer(credential, issuer)
    credential.setdefault("id", f"urn:uuid:{uuid.uuid4()}")
    loader = DocumentLoader()
    if args.suite == JWT_SUITE:
        check_before_signing(credential, signer=signer, loader=loader)
        print(encode_vc_jwt(credential, signer=signer))
    else:
        signed = issue(credential, signer=signer, loader=loader, suite=args.suite)
        print(json.dumps(signed, indent=2, ensure_ascii=False))
    return 0


def _local_keys(args: argparse.Namespace) -> dict[str, ResolvedKey]:
    """Keys of issuers in the local store, so credentials of a did:web issuer served by this
    installation verify offline. Without a passphrase only did:key resolves."""
    if not os.environ.get(PASSPHRASE_ENV) or not _keys_dir(args).exists():
        return {}
    store = _store(args)
    try:
        published = [key for issuer in store.issuers() for key in store.published_keys(issuer)]
    except KeyStoreError as exc:
        # Verifying needs no secret: carry on with did:key only, and say why local keys are missing.
        print(f"microcred: local keys not used ({exc}){_dev_passphrase_hint(_keys_dir(args))}", file=sys.stderr)
        return {}
    return {key.id: resolved_from_published(key) for key in published}


def _read_bytes(path: str) -> bytes:
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        return Path(path).read_bytes()
    except FileNotFoundError:
        _fail(f"no such file: {path}")
    except OSError as exc:
        _fail(f"cannot read {path}: {exc}")


def cmd_verify(args: argparse.Namespace) -> int:
    # the same reader as /api/v1/verify: JSON-LD, a VC-JWT, a baked PNG or SVG, a PDF certificate
    try:
        credential = credential_from_bytes(_read_bytes(args.file))
    except CredentialError as exc:
        report = VerificationReport("malformed", [Check("parse", "failed", exc.message, "malformed")])
    else:
        report = verify(credential, resolve_key=Resolver(keys=_local_keys(args)), recipient_email=args.email)
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    parse = report.check("parse")
    if parse is None or parse.outcome == "failed":
        return 2
    return 0 if report.valid else 1


# -- wiring ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="microcred", description="Open Badges 3.0 microcredentials: keys, sign, verify.")
    parser.add_argument("--keys-dir", help=f"key store folder (default: ${KEYS_DIR_ENV} or ./keys)")
    sub = parser.add_subparsers(dest="command", required=True)

    keys = sub.add_parser("keys", help="manage signing keys").add_subparsers(dest="keys_command", required=True)
    gen = keys.add_parser("generate", help="generate a key (without --issuer: the development did:key, once)")
    gen.add_argument("--issuer", help="a did:web issuer to create the first key for")
    gen.set_defaults(func=cmd_keys_generate)
    rot = keys.add_parser("rotate", help="make a new key current; the old one stays published as retired")
    rot.add_argument("--issuer", required=True)
    rot.set_defaults(func=cmd_keys_rotate)
    keys.add_parser("list", help="list keys with their validity periods").set_defaults(func=cmd_keys_list)

    sign = sub.add_parser("sign", help="sign a credential and print it")
    sign.add_argument("--suite", choices=[*sorted(SUITES), JWT_SUITE], default=DEFAULT_SUITE)
    sign.add_argument("--key", help="issuer DID whose current key signs (default: the development key)")
    sign.add_argument("file", help="credential JSON file, or - for standard input")
    sign.set_defaults(func=cmd_sign)

    ver = sub.add_parser("verify", help="verify a credential (JSON-LD, VC-JWT, baked PNG or SVG, PDF) and print the report")
    ver.add_argument("--email", help="also check that the credential was awarded to this email address")
    ver.add_argument("file", help="credential file (JSON-LD, VC-JWT, baked PNG or SVG, PDF certificate), or - for standard input")
    ver.set_defaults(func=cmd_verify)

    add_service_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (UsageError, CommandError) as exc:
        print(f"microcred: {exc}", file=sys.stderr)
        return 2
    except (CredentialError, KeyStoreError, ValueError) as exc:
        message = exc.message if isinstance(exc, CredentialError) else str(exc)
        if isinstance(exc, KeyStoreError):
            message += _dev_passphrase_hint(_keys_dir(args))
        pointer = f" (at {exc.pointer})" if isinstance(exc, CredentialError) and exc.pointer else ""
        print(f"microcred: {message}{pointer}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
