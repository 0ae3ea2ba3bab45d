"""The service's commands on the command line (serve, migrate, clients, staff, issuers, audit,
import, backup, restore): their arguments here, their work in :mod:`.service_commands`, imported only when one of
them runs, so ``microcred sign`` and ``microcred verify`` start without the web service's stack."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib import import_module
from typing import Any

from .auth.principal import SCOPES

__all__ = ["CommandError", "add_service_commands"]


class CommandError(Exception):
    """Exit 2 with this message."""


_EXPIRES_HELP = "when the key stops working: days (90d), a date (2027-06-30, midnight UTC) or a time with its zone"


def _deferred(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        command: Callable[[argparse.Namespace], int] = getattr(import_module(".service_commands", __package__), name)
        return command(args)

    return run


def add_service_commands(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the HTTP service (migrates the database first)")
    serve.add_argument("--host", help="default: $MICROCRED_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: $MICROCRED_PORT or 8000")
    serve.add_argument("--workers", type=int, help="default: $MICROCRED_WORKERS or 1")
    serve.set_defaults(func=_deferred("cmd_serve"))

    sub.add_parser("migrate", help="bring the database to the newest schema").set_defaults(func=_deferred("cmd_migrate"))

    clients = sub.add_parser("clients", help="API clients").add_subparsers(dest="clients_command", required=True)
    create = clients.add_parser("create", help="create an API client and print its key (once)")
    create.add_argument("--admin", action="store_true", help="a key that manages every issuer")
    create.add_argument("--issuer", help="an issuer id: the key acts for this issuer alone")
    create.add_argument("--scopes", help=f"comma-separated, from {','.join(SCOPES)} (default: award)")
    create.add_argument("--name", default="api client", help="a label, e.g. the LMS it belongs to")
    create.add_argument("--expires", help=_EXPIRES_HELP)
    create.set_defaults(func=_deferred("cmd_clients_create"))
    listing = clients.add_parser("list", help="every API client (never a key): id, name, issuer, scopes, expiry, state")
    listing.add_argument("--issuer", help="only this issuer's clients")
    listing.set_defaults(func=_deferred("cmd_clients_list"))
    revoke = clients.add_parser("revoke", help="revoke a client's key for good: its next request gets 401")
    revoke.add_argument("client", help="client id (from `clients list`)")
    revoke.set_defaults(func=_deferred("cmd_clients_revoke"))
    set_expiry = clients.add_parser("set-expiry", help="change when a client's key stops working")
    set_expiry.add_argument("client", help="client id (from `clients list`)")
    set_expiry.add_argument("when", help=_EXPIRES_HELP + ", or never")
    set_expiry.set_defaults(func=_deferred("cmd_clients_set_expiry"))
    rotate_client_parser = clients.add_parser("rotate", help="print a new key for the client (once); the old key stops at once")
    rotate_client_parser.add_argument("client", help="client id (from `clients list`)")
    rotate_client_parser.add_argument("--expires", help=_EXPIRES_HELP + " (the new key's; default: never)")
    rotate_client_parser.set_defaults(func=_deferred("cmd_clients_rotate"))

    staff = sub.add_parser("staff", help="console staff").add_subparsers(dest="staff_command", required=True)
    staff_create = staff.add_parser("create", help="make a console admin and print a one-time sign-in link")
    staff_create.add_argument("--admin", action="store_true", help="a service admin: owner of every issuer")
    staff_create.add_argument("email", help="the admin's email address (how they sign in)")
    staff_create.set_defaults(func=_deferred("cmd_staff_create"))

    issuers = sub.add_parser("issuers", help="issuer operations").add_subparsers(dest="issuers_command", required=True)
    rotate = issuers.add_parser("rotate-key", help="make a new key current; old credentials keep verifying")
    rotate.add_argument("issuer", help="issuer id")
    rotate.set_defaults(func=_deferred("cmd_issuers_rotate_key"))

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    audit.add_parser(
        "verify", help="check the audit log's hash chains: exit 0 if they hold (printing each chain's head), 1 naming each chain's first broken entry"
    ).set_defaults(func=_deferred("cmd_audit_verify"))

    imp = sub.add_parser("import", help="award every row of a CSV or JSON file (a bulk-award job), with progress")
    imp.add_argument("file", help="a .csv file (see the README for its columns) or a JSON list of awards")
    imp.add_argument("--issuer", required=True, help="issuer id")
    imp.set_defaults(func=_deferred("cmd_import"))

    backup = sub.add_parser(
        "backup", help="write the database, the key store (still encrypted; not the passphrase) and a manifest into one archive"
    )
    backup.add_argument("file", help="the archive to write, e.g. microcred-2027-01-31.tar.gz (never overwritten)")
    backup.set_defaults(func=_deferred("cmd_backup"))
    restore = sub.add_parser(
        "restore", help="restore an archive of `microcred backup` into an empty database and key store, and check it"
    )
    restore.add_argument("file", help="the archive")
    restore.add_argument(
        "--force", action="store_true",
        help="replace a database and key store that are not empty (key files are moved aside, never deleted)",
    )
    restore.set_defaults(func=_deferred("cmd_restore"))
