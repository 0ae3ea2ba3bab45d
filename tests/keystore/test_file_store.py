"""The encrypted-at-rest key store: signing, encryption, tampering, rotation, re-opening."""

from __future__ import annotations

import base64
import json
import shutil
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from microcred.credentials.did import PublishedKey, published_keys_from_document
from microcred.credentials.keys import Ed25519KeyPair, Ed25519PublicKeyInfo, did_key_document, public_key_from_multikey
from microcred.credentials.multibase import b58encode
from microcred.keystore import FileKeyStore, KeyStore, KeyStoreError, ensure_development_key
from microcred.keystore import key_files as list_key_files

PASSPHRASE = "correct horse battery staple"
ISSUER = "did:web:issuer.example:issuers:abc"
OTHER_ISSUER = "did:web:issuer.example:issuers:xyz"
T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
DATA = b"canonical bytes of a credential"


def verifies(public_key_multibase: str, signature: bytes, data: bytes = DATA) -> bool:
    key = Ed25519PublicKeyInfo(id="k", public_key=public_key_from_multikey(public_key_multibase))
    return key.verify(data, signature)


def key_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.json"))


def slug_dir(root: Path, issuer: str) -> Path:
    """The directory holding an issuer's key files (found by content: its name is the store's business)."""
    (directory,) = {p.parent for p in key_files(root) if json.loads(p.read_text())["issuer"] == issuer}
    return directory


def edit(path: Path, change: dict[str, Any]) -> None:
    data = json.loads(path.read_text())
    data.update(change)
    path.write_text(json.dumps(data))


def decrypt_seed(path: Path, passphrase: str) -> bytes:
    """Open a key file the way its format documents, independently of the store."""
    data = json.loads(path.read_text())
    sealed = data["private_key"]

    def unb64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    key = Scrypt(salt=unb64(sealed["salt"]), length=32, n=sealed["n"], r=sealed["r"], p=sealed["p"]).derive(
        passphrase.encode()
    )
    aad = json.dumps([data["format"], data["id"], data["issuer"]]).encode()
    return AESGCM(key).decrypt(unb64(sealed["nonce"]), unb64(sealed["ciphertext"]), aad)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def store(root: Path) -> FileKeyStore:
    return FileKeyStore(root, passphrase=PASSPHRASE)


class TestGenerate:
    def test_signer_signs_what_the_published_key_verifies(self, store: FileKeyStore) -> None:
        key = store.generate(ISSUER, now=T0)
        signer = store.signer(ISSUER)
        assert verifies(key.public_key_multibase, signer.sign(DATA))
        assert signer.algorithm == "Ed25519"

    def test_verification_method_id_is_issuer_and_public_key_multibase(self, store: FileKeyStore) -> None:
        key = store.generate(ISSUER, now=T0)
        assert key.public_key_multibase.startswith("z6Mk")
        assert key.id == store.signer(ISSUER).id == f"{ISSUER}#{key.public_key_multibase}"
        assert (key.controller, key.valid_from, key.valid_until) == (ISSUER, T0, None)

    def test_a_second_generate_for_the_same_issuer_is_refused(self, store: FileKeyStore) -> None:
        store.generate(ISSUER, now=T0)
        with pytest.raises(KeyStoreError, match="rotate"):
            store.generate(ISSUER, now=T1)

    def test_issuers_get_separate_keys(self, store: FileKeyStore) -> None:
        first, second = store.generate(ISSUER, now=T0), store.generate(OTHER_ISSUER, now=T0)
        assert first.public_key_multibase != second.public_key_multibase
        assert store.issuers() == [ISSUER, OTHER_ISSUER]

    def test_an_issuer_that_is_not_a_did_web_is_refused(self, store: FileKeyStore) -> None:
        with pytest.raises(ValueError, match="did:web"):
            store.generate("https://issuer.example/issuers/abc", now=T0)

    def test_a_naive_time_is_refused(self, store: FileKeyStore) -> None:
        with pytest.raises(ValueError, match="naive"):
            store.generate(ISSUER, now=datetime(2025, 1, 1))

    def test_signing_for_an_unknown_issuer_fails_clearly(self, store: FileKeyStore) -> None:
        with pytest.raises(KeyStoreError, match="no keys for"):
            store.signer(ISSUER)

    def test_file_store_satisfies_the_key_store_protocol(self, store: FileKeyStore) -> None:
        def accepts(keys: KeyStore) -> list[str]:
            return keys.issuers()

        assert accepts(store) == []


class TestEncryptionAtRest:
    def test_the_file_holds_no_form_of_the_seed(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        (path,) = key_files(root)
        seed = decrypt_seed(path, PASSPHRASE)
        pair = Ed25519KeyPair.from_seed(seed)
        forms = [
            seed,
            seed.hex().encode(),
            base64.b64encode(seed).rstrip(b"="),
            base64.urlsafe_b64encode(seed).rstrip(b"="),
            b58encode(seed).encode(),
            pair.secret_key_multibase().encode(),
        ]
        content = path.read_bytes()
        assert len(seed) == 32
        assert not [form for form in forms if form in content]
        assert pair.public_key_multibase.encode() in content

    def test_key_files_are_private_to_the_owner(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        (path,) = key_files(root)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(root.stat().st_mode) == 0o700

    def test_no_temporary_files_are_left_behind(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        store.rotate(ISSUER, now=T1)
        assert [p.name for p in root.rglob(".*")] == []

    def test_a_wrong_passphrase_names_the_environment_variable(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        wrong = FileKeyStore(root, passphrase="not the passphrase")
        with pytest.raises(KeyStoreError, match="cannot decrypt key .*: wrong MICROCRED_KEY_PASSPHRASE"):
            wrong.signer(ISSUER)
        with pytest.raises(KeyStoreError, match="wrong MICROCRED_KEY_PASSPHRASE"):
            wrong.published_keys(ISSUER)

    def test_a_wrong_passphrase_cannot_add_keys_the_others_cannot_share(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        wrong = FileKeyStore(root, passphrase="not the passphrase")
        with pytest.raises(KeyStoreError, match="wrong MICROCRED_KEY_PASSPHRASE"):
            wrong.rotate(ISSUER, now=T1)
        with pytest.raises(KeyStoreError, match="wrong MICROCRED_KEY_PASSPHRASE"):
            wrong.generate(OTHER_ISSUER, now=T1)
        assert len(key_files(root)) == 1

    def test_an_empty_passphrase_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="MICROCRED_KEY_PASSPHRASE"):
            FileKeyStore(tmp_path, passphrase="")

    def test_a_flipped_ciphertext_bit_fails_to_decrypt(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        (path,) = key_files(root)
        sealed = json.loads(path.read_text())["private_key"]
        raw = bytearray(base64.urlsafe_b64decode(sealed["ciphertext"] + "=="))
        raw[0] ^= 1
        sealed["ciphertext"] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
        edit(path, {"private_key": sealed})
        with pytest.raises(KeyStoreError, match="cannot decrypt"):
            FileKeyStore(root, passphrase=PASSPHRASE).signer(ISSUER)

    def test_a_key_file_moved_to_another_issuer_fails_to_decrypt(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        store.generate(OTHER_ISSUER, now=T0)
        (stolen,) = key_files(slug_dir(root, ISSUER))
        victim_dir = slug_dir(root, OTHER_ISSUER)
        for path in key_files(victim_dir):
            path.unlink()
        shutil.copy(stolen, victim_dir / stolen.name)
        edit(victim_dir / stolen.name, {"issuer": OTHER_ISSUER})
        with pytest.raises(KeyStoreError, match="cannot decrypt"):
            FileKeyStore(root, passphrase=PASSPHRASE).signer(OTHER_ISSUER)

    def test_an_issuer_field_edited_in_place_is_refused(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        (path,) = key_files(root)
        edit(path, {"issuer": OTHER_ISSUER})
        with pytest.raises(KeyStoreError, match="belongs to did:web:issuer.example:issuers:xyz"):
            store.signer(ISSUER)

    def test_a_public_key_swapped_for_another_is_refused(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        (path,) = key_files(root)
        other = Ed25519KeyPair.from_seed(bytes(32)).public_key_multibase
        edit(path, {"id": other, "public_key_multibase": other})
        path.rename(path.with_name(f"{other}.json"))
        with pytest.raises(KeyStoreError, match="cannot decrypt"):
            store.published_keys(ISSUER)

    def test_a_truncated_file_is_reported_as_malformed(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        (path,) = key_files(root)
        path.write_text(path.read_text()[:40])
        with pytest.raises(KeyStoreError, match="malformed"):
            store.signer(ISSUER)

    def test_an_absurd_scrypt_cost_in_a_file_is_refused_before_running_it(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        (path,) = key_files(root)
        sealed = json.loads(path.read_text())["private_key"] | {"n": 2**30}
        edit(path, {"private_key": sealed})
        with pytest.raises(KeyStoreError, match="scrypt parameters"):
            store.signer(ISSUER)

    def test_repr_shows_no_secret(self, store: FileKeyStore) -> None:
        store.generate(ISSUER, now=T0)
        text = repr(store) + repr(store.signer(ISSUER))
        assert PASSPHRASE not in text
        assert "keys" in repr(store)


class TestRotate:
    def test_the_new_key_signs_under_a_new_verification_method(self, store: FileKeyStore) -> None:
        store.generate(ISSUER, now=T0)
        before = store.signer(ISSUER)
        new = store.rotate(ISSUER, now=T1)
        after = store.signer(ISSUER)
        assert after.id != before.id
        assert after.id == new.id
        assert verifies(new.public_key_multibase, after.sign(DATA))

    def test_published_keys_keep_the_retired_key_with_its_period(self, store: FileKeyStore) -> None:
        old = store.generate(ISSUER, now=T0)
        new = store.rotate(ISSUER, now=T1)
        assert store.published_keys(ISSUER) == [
            PublishedKey(old.id, ISSUER, old.public_key_multibase, valid_from=T0, valid_until=T1),
            PublishedKey(new.id, ISSUER, new.public_key_multibase, valid_from=T1, valid_until=None),
        ]

    def test_signatures_made_before_rotation_still_verify_with_the_published_key(self, store: FileKeyStore) -> None:
        old = store.generate(ISSUER, now=T0)
        signature = store.signer(ISSUER).sign(DATA)
        store.rotate(ISSUER, now=T1)
        (published_old, _) = store.published_keys(ISSUER)
        assert published_old.public_key_multibase == old.public_key_multibase
        assert verifies(published_old.public_key_multibase, signature)

    def test_the_did_document_lists_both_keys_for_assertion(self, store: FileKeyStore) -> None:
        old = store.generate(ISSUER, now=T0)
        new = store.rotate(ISSUER, now=T1)
        doc = store.did_document(ISSUER)
        assert doc["assertionMethod"] == [old.id, new.id]
        assert doc["verificationMethod"][0]["expires"] == "2025-06-01T09:00:00Z"
        assert [k.valid_until for k in published_keys_from_document(doc)] == [T1, None]

    def test_a_retirement_within_a_second_rounds_up(self, store: FileKeyStore) -> None:
        store.generate(ISSUER, now=T0)
        store.rotate(ISSUER, now=T1 + timedelta(microseconds=250_000))
        old, new = store.published_keys(ISSUER)
        assert (old.valid_until, new.valid_from) == (T1 + timedelta(seconds=1), T1)

    def test_an_interrupted_rotation_signs_with_the_newer_key_and_heals_on_the_next(self, store: FileKeyStore, root: Path) -> None:
        old = store.generate(ISSUER, now=T0)
        middle = store.rotate(ISSUER, now=T1)
        edit(slug_dir(root, ISSUER) / f"{old.public_key_multibase}.json", {"retired_at": None})
        assert store.signer(ISSUER).id == middle.id
        later = T1 + timedelta(days=30)
        store.rotate(ISSUER, now=later)
        assert [k.valid_until for k in store.published_keys(ISSUER)] == [later, later, None]

    def test_a_rotation_dated_before_the_current_key_is_refused(self, store: FileKeyStore) -> None:
        store.generate(ISSUER, now=T1)
        with pytest.raises(ValueError, match="precedes"):
            store.rotate(ISSUER, now=T0)
        assert [k.valid_until for k in store.published_keys(ISSUER)] == [None]

    def test_rotating_an_issuer_without_keys_is_refused(self, store: FileKeyStore) -> None:
        with pytest.raises(KeyStoreError, match="generate"):
            store.rotate(ISSUER, now=T1)

    def test_a_did_key_issuer_cannot_rotate(self, store: FileKeyStore) -> None:
        key = store.generate_did_key(now=T0)
        with pytest.raises(KeyStoreError, match="did:key"):
            store.rotate(key.controller, now=T1)


class TestDidKey:
    def test_the_issuer_is_the_did_key_of_its_own_key(self, store: FileKeyStore) -> None:
        key = store.generate_did_key(now=T0)
        assert key.controller == f"did:key:{key.public_key_multibase}"
        assert store.signer(key.controller).id == f"{key.controller}#{key.public_key_multibase}"
        assert store.did_document(key.controller) == did_key_document(key.controller)


class TestReopen:
    def test_a_new_instance_on_the_same_root_finds_and_uses_the_keys(self, store: FileKeyStore, root: Path) -> None:
        old = store.generate(ISSUER, now=T0)
        new = store.rotate(ISSUER, now=T1)
        reopened = FileKeyStore(root, passphrase=PASSPHRASE)
        assert reopened.issuers() == [ISSUER]
        assert reopened.published_keys(ISSUER) == store.published_keys(ISSUER)
        assert reopened.current_key(ISSUER) == new
        signer = reopened.signer(ISSUER)
        assert signer.id == new.id != old.id
        assert verifies(new.public_key_multibase, signer.sign(DATA))


class TestListingWithoutThePassphrase:
    def test_every_key_file_is_listed_with_its_key_and_nothing_is_decrypted(self, store: FileKeyStore, root: Path) -> None:
        old = store.generate(ISSUER, now=T0)
        new = store.rotate(ISSUER, now=T1)
        other = store.generate(OTHER_ISSUER, now=T1)
        for path in key_files(root):
            edit(path, {"private_key": {**json.loads(path.read_text())["private_key"], "salt": "AAAA"}})  # no passphrase opens these now
        (slug_dir(root, ISSUER) / ".half-written.json").write_text("{")  # a dot file: skipped, as the store skips it
        (root / ".dev-passphrase").write_text(PASSPHRASE)
        listed = list_key_files(root)
        assert sorted(k.verification_method for k in listed) == sorted([old.id, new.id, other.id])
        assert {k.verification_method: k.created for k in listed}[new.id] == T1
        assert all(k.path.is_file() and k.path.name == k.verification_method.split("#")[1] + ".json" for k in listed)
        assert list_key_files(root / "missing") == []

    def test_a_malformed_key_file_is_reported(self, store: FileKeyStore, root: Path) -> None:
        store.generate(ISSUER, now=T0)
        key_files(root)[0].write_text("{")
        with pytest.raises(KeyStoreError, match="malformed"):
            list_key_files(root)


class TestEnsureDevelopmentKey:
    def test_generates_on_first_run_and_reuses_afterwards(self, tmp_path: Path) -> None:
        first = ensure_development_key(tmp_path, passphrase=PASSPHRASE, issuer=ISSUER, now=T0)
        again = ensure_development_key(tmp_path, passphrase=PASSPHRASE, issuer=ISSUER, now=T1)
        assert again == first
        assert len(key_files(tmp_path)) == 1

    def test_without_an_issuer_one_did_key_is_created_and_reused(self, tmp_path: Path) -> None:
        first = ensure_development_key(tmp_path, passphrase=PASSPHRASE, now=T0)
        again = ensure_development_key(tmp_path, passphrase=PASSPHRASE, now=T1)
        assert first.controller.startswith("did:key:z6Mk")
        assert again == first

    def test_an_existing_key_under_another_passphrase_is_not_silently_replaced(self, tmp_path: Path) -> None:
        ensure_development_key(tmp_path, passphrase=PASSPHRASE, issuer=ISSUER, now=T0)
        with pytest.raises(KeyStoreError, match="wrong MICROCRED_KEY_PASSPHRASE"):
            ensure_development_key(tmp_path, passphrase="another", issuer=ISSUER, now=T1)

