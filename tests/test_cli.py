"""The microcred command as a user runs it: real processes, real key store, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "microcredential.json"
#: an OB 3.0 credential signed by Digital Bazaar's libraries (did:key: verifies without a key store)
VC11_VECTOR = ROOT / "tests" / "vectors" / "ob3-vc11-digitalbazaar" / "signed.json"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "MICROCRED_KEY_PASSPHRASE": "a-test-passphrase", "MICROCRED_KEYS_DIR": str(tmp_path / "keys")}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "microcred", *args], input=stdin, env=env, capture_output=True, text=True, timeout=120
    )


class TestSignAndVerify:
    @pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "vc-jwt"])
    def test_sample_signs_and_verifies(self, env, suite):
        assert run(env, "keys", "generate").returncode == 0
        signed = run(env, "sign", "--suite", suite, str(SAMPLE))
        assert signed.returncode == 0, signed.stderr
        verified = run(env, "verify", "-", stdin=signed.stdout)
        assert verified.returncode == 0, verified.stdout
        report = json.loads(verified.stdout)
        assert report["verdict"] == "valid"
        assert report["summary"]["achievement"]["name"] == "Precision Turning for Instrument Makers"

    def test_development_key_is_generated_once_and_encrypted(self, env, tmp_path):
        first = json.loads(run(env, "keys", "generate").stdout)
        second = json.loads(run(env, "keys", "generate").stdout)
        assert first == second and first["issuer"].startswith("did:key:z6Mk")
        files = list((tmp_path / "keys").rglob("*.json"))
        assert files
        assert all("a-test-passphrase" not in f.read_text() for f in files)

    def test_tampered_credential_exits_1(self, env):
        run(env, "keys", "generate")
        signed = json.loads(run(env, "sign", str(SAMPLE)).stdout)
        signed["credentialSubject"]["achievement"]["name"] = "Precision Turning for Instrument Makers II"
        result = run(env, "verify", "-", stdin=json.dumps(signed))
        assert result.returncode == 1
        assert json.loads(result.stdout)["verdict"] == "tampered"

    def test_recipient_check(self, env):
        run(env, "keys", "generate")
        signed = run(env, "sign", str(SAMPLE)).stdout
        assert run(env, "verify", "--email", "learner@example.org", "-", stdin=signed).returncode == 0
        assert run(env, "verify", "--email", "intruder@example.org", "-", stdin=signed).returncode == 1


class TestOtherIssuersCredentials:
    def test_an_ob3_credential_on_vc_1_1_signed_by_digital_bazaar_is_valid(self, env):
        """OB 3.0.0-3.0.2 (VC 1.1, issuanceDate), as many issuers shipped in 2023-2024."""
        verified = run(env, "verify", str(VC11_VECTOR))
        assert verified.returncode == 0, verified.stdout
        report = json.loads(verified.stdout)
        assert report["verdict"] == "valid"
        assert report["summary"]["validFrom"] == "2025-01-15T09:00:00Z"


class TestFilesTheApiAccepts:
    """microcred verify reads what /api/v1/verify reads: baked PNG and SVG, PDF certificates."""

    @staticmethod
    def _file(kind: str, tmp_path: Path) -> Path:
        from pypdf import PdfWriter

        from microcred.credentials.baking import bake_png, bake_svg, default_badge_png, default_badge_svg

        credential = json.loads(VC11_VECTOR.read_text("utf-8"))
        path = tmp_path / f"badge.{kind}"
        if kind == "png":
            path.write_bytes(bake_png(default_badge_png(64), credential))
        elif kind == "svg":
            path.write_text(bake_svg(default_badge_svg("Badge", "Issuer"), credential), "utf-8")
        else:
            writer = PdfWriter()
            writer.add_blank_page(width=200, height=200)
            writer.add_attachment("credential.jsonld", VC11_VECTOR.read_bytes())
            with path.open("wb") as out:
                writer.write(out)
        return path

    @pytest.mark.parametrize("kind", ["png", "svg", "pdf"])
    def test_a_baked_image_or_pdf_certificate_verifies(self, env, tmp_path, kind):
        verified = run(env, "verify", str(self._file(kind, tmp_path)))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert json.loads(verified.stdout)["verdict"] == "valid"

    def test_a_vc_jwt_saved_as_a_json_string_verifies(self, env, tmp_path):
        from microcred.credentials import Ed25519KeyPair
        from microcred.credentials.vc_jwt import encode_vc_jwt

        key = Ed25519KeyPair.from_seed(b"\x03" * 32)
        credential = {k: v for k, v in json.loads(VC11_VECTOR.read_text("utf-8")).items() if k != "proof"}
        credential = {**credential, "issuer": {**credential["issuer"], "id": key.controller}}
        quoted = tmp_path / "badge.json"
        quoted.write_text(json.dumps(encode_vc_jwt(credential, signer=key.signer())), "utf-8")
        verified = run(env, "verify", str(quoted))
        assert verified.returncode == 0, verified.stdout
        assert json.loads(verified.stdout)["format"] == "jwt"

    def test_an_image_without_a_credential_exits_2_and_says_why(self, env, tmp_path):
        from microcred.credentials.baking import default_badge_png

        plain = tmp_path / "plain.png"
        plain.write_bytes(default_badge_png(64))
        result = run(env, "verify", str(plain))
        assert result.returncode == 2
        report = json.loads(result.stdout)
        assert report["verdict"] == "malformed" and "credential" in report["checks"][0]["message"]


class TestUnusableInput:
    def test_malformed_json_exits_2_without_traceback(self, env):
        result = run(env, "verify", "-", stdin="{not json")
        assert result.returncode == 2
        assert "Traceback" not in result.stderr + result.stdout

    def test_a_duplicate_member_exits_2_naming_it(self, env):
        run(env, "keys", "generate")
        signed = run(env, "sign", str(SAMPLE)).stdout
        forged = '{"id": "urn:uuid:00000000-0000-4000-8000-00000000f04d", ' + signed.lstrip()[1:]  # the signed id comes last
        result = run(env, "verify", "-", stdin=forged)
        assert result.returncode == 2, result.stdout
        assert "duplicate member 'id'" in result.stdout + result.stderr

    def test_missing_file(self, env):
        result = run(env, "verify", "/nonexistent/credential.json")
        assert result.returncode == 2 and "no such file" in result.stderr

    def test_sign_refuses_undefined_terms_with_exit_2(self, env, tmp_path):
        run(env, "keys", "generate")
        doc = json.loads(SAMPLE.read_text())
        doc["credentialSubject"]["shoeSize"] = 44
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(doc))
        result = run(env, "sign", str(path))
        assert result.returncode == 2
        assert "shoeSize" in result.stderr and "Traceback" not in result.stderr

    def test_sign_without_passphrase_says_how_to_fix(self, env):
        result = run({k: v for k, v in env.items() if k != "MICROCRED_KEY_PASSPHRASE"}, "sign", str(SAMPLE))
        assert result.returncode == 2
        assert "MICROCRED_KEY_PASSPHRASE" in result.stderr

    def test_wrong_passphrase_is_refused(self, env):
        run(env, "keys", "generate")
        result = run({**env, "MICROCRED_KEY_PASSPHRASE": "wrong"}, "sign", str(SAMPLE))
        assert result.returncode == 2 and "Traceback" not in result.stderr

    def test_verify_works_with_a_wrong_passphrase(self, env):
        run(env, "keys", "generate")
        signed = run(env, "sign", str(SAMPLE)).stdout
        result = run({**env, "MICROCRED_KEY_PASSPHRASE": "wrong"}, "verify", "-", stdin=signed)
        assert result.returncode == 0, result.stderr
        assert "local keys not used" in result.stderr

    def test_missing_passphrase_points_at_the_development_passphrase(self, env, tmp_path):
        (tmp_path / "keys").mkdir(exist_ok=True)
        (tmp_path / "keys" / ".dev-passphrase").write_text("x")
        result = run({k: v for k, v in env.items() if k != "MICROCRED_KEY_PASSPHRASE"}, "keys", "list")
        assert result.returncode == 2 and ".dev-passphrase" in result.stderr

    def test_jwt_alg_none_exits_1(self, env):
        import base64

        def b64(obj):
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

        token = f"{b64({'alg': 'none'})}.{b64(json.loads(SAMPLE.read_text()))}."
        result = run(env, "verify", "-", stdin=token)
        assert result.returncode == 1
        assert "none" in result.stdout


class TestKeyRotation:
    def test_rotate_a_did_web_issuer(self, env):
        issuer = "did:web:issuer.example"
        assert run(env, "keys", "generate", "--issuer", issuer).returncode == 0
        signed_before = run(env, "sign", "--key", issuer, str(SAMPLE)).stdout
        assert run(env, "keys", "rotate", "--issuer", issuer).returncode == 0
        keys = json.loads(run(env, "keys", "list").stdout)
        mine = [k for k in keys if k["issuer"] == issuer]
        assert len(mine) == 2 and mine[0]["validUntil"] and mine[1]["validUntil"] is None
        signed_after = run(env, "sign", "--key", issuer, str(SAMPLE)).stdout
        assert json.loads(signed_before)["proof"]["verificationMethod"] != json.loads(signed_after)["proof"]["verificationMethod"]
        assert run(env, "verify", "-", stdin=signed_before).returncode == 0
        assert run(env, "verify", "-", stdin=signed_after).returncode == 0
