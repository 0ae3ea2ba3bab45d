"""The service's shell commands: settings errors, client keys, bulk import with progress."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from microcred.cli import main
from microcred.config import SettingsError, load_settings

from ..factories.service import achievement_body


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MICROCRED_KEY_PASSPHRASE", "cli-test-passphrase")
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MICROCRED_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("MICROCRED_BASE_URL", "https://badges.example.org")
    return tmp_path


def test_bad_settings_say_how_to_fix_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICROCRED_KEY_PASSPHRASE", raising=False)
    monkeypatch.setenv("MICROCRED_DATABASE_URL", "mysql://db/x")
    monkeypatch.setenv("MICROCRED_BASE_URL", "http://10.0.0.1:8000")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "MICROCRED_DATABASE_URL" in message and "postgresql://" in message
    assert "MICROCRED_BASE_URL" in message and "localhost" in message


def test_migrate_then_create_clients(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert (env / "data" / "microcred.db").exists()
    assert main(["clients", "create", "--admin"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("mc_") and len(key) > 40
    assert main(["clients", "create", "--issuer", "nobody", "--scopes", "award"]) == 2
    assert "no issuer 'nobody'" in capsys.readouterr().err
    assert main(["clients", "create", "--admin", "--issuer", "x"]) == 2


@pytest.mark.asyncio
async def test_import_awards_a_file_with_progress(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from microcred.app import create_app

    settings = load_settings()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            from microcred.auth.service import create_client

            runtime = app.state.runtime
            async with runtime.sessions() as session, session.begin():
                admin = (await create_client(session, name="t", issuer_id=None)).api_key
            headers = {"Authorization": f"Bearer {admin}"}
            issuer = {"id": "spe", "name": "SPE", "address": {"country": "Netherlands"}}
            assert (await http.post("/api/v1/issuers", json=issuer, headers=headers)).status_code == 201
            achievement = (await http.post("/api/v1/issuers/spe/achievements", json=achievement_body(), headers=headers)).json()
    rows = ["achievement_id,recipient_email,completion_date"] + [f"{achievement['id']},p{i}@example.org,2019-09-0{i + 1}" for i in range(5)]
    rows.append(f"{achievement['id']},broken,2019-09-01")
    (env / "cohort.csv").write_text("\n".join(rows) + "\n")
    import asyncio

    code = await asyncio.to_thread(main, ["import", "cohort.csv", "--issuer", "spe"])
    out, err = capsys.readouterr()
    assert code == 1  # one row failed
    assert "6/6 rows, 1 failed" in err
    summary = json.loads(out)
    assert (summary["awarded"], summary["failed"], summary["total"]) == (5, 1, 6)


def test_clients_list_revoke_and_rotate(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["clients", "create", "--admin", "--name", "ops", "--expires", "2999-12-31"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["clients", "create", "--admin", "--name", "lms"]) == 0
    second = capsys.readouterr().out.strip()
    assert main(["clients", "list"]) == 0
    listing = capsys.readouterr().out
    assert first not in listing and second not in listing  # never a key
    lines = listing.splitlines()
    assert lines[0].split() == ["ID", "NAME", "ISSUER", "SCOPES", "KEY", "CREATED", "EXPIRES", "LAST-USED", "STATE"]
    ops = next(line.split() for line in lines if " ops " in line)
    assert ops[4] == f"mc_{first.split('_')[1]}_..." and ops[6] == "2999-12-31T00:00Z" and ops[7] == "-" and ops[8] == "active"  # never used
    lms = next(line.split() for line in lines if " lms " in line)
    assert main(["clients", "rotate", lms[0], "--expires", "30d"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().startswith("mc_") and out.strip() != second and "old key no longer works" in err
    assert main(["clients", "set-expiry", lms[0], "never"]) == 0
    assert "no longer expires" in capsys.readouterr().err
    assert main(["clients", "revoke", ops[0]]) == 0
    assert "revoked" in capsys.readouterr().err
    assert main(["clients", "list"]) == 0
    states = {line.split()[1]: line.split()[-1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert states == {"ops": "revoked", "lms": "active"}
    assert main(["clients", "rotate", ops[0]]) == 2  # revocation is final
    assert "revoked" in capsys.readouterr().err
    assert main(["clients", "create", "--admin", "--expires", "yesterday"]) == 2
    assert main(["audit", "verify"]) == 0


@pytest.mark.asyncio
async def test_staff_create_admin_prints_a_sign_in_link_that_works_once(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from microcred.app import create_app

    from .console_helpers import sign_in_with_link

    assert await asyncio.to_thread(main, ["migrate"]) == 0
    assert await asyncio.to_thread(main, ["staff", "create", "Root@Example.org"]) == 2  # only --admin here
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["staff", "create", "--admin", "Root@Example.org"]) == 0
    out, err = capsys.readouterr()
    link = out.strip()
    assert link.startswith("https://badges.example.org/console/sign-in/confirm?token=") and "root@example.org" in err
    app = create_app(load_settings())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://badges.example.org") as http:
            answer = await sign_in_with_link(http, link)
            assert answer.status_code == 303
            assert (await http.get("/console")).status_code == 200  # an admin: the list of issuers
            http.cookies.clear()
            assert (await http.get(link.removeprefix("https://badges.example.org"))).status_code == 400
