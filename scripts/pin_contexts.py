"""Rewrite src/microcred/credentials/contexts/manifest.json from the files beside it.

Run after adding or deliberately updating a bundled context; the loader refuses any file whose
sha256 no longer matches the manifest, so an accidental edit cannot slip through.
"""

import hashlib
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent.parent / "src/microcred/credentials/contexts"
URLS = {
    "credentials-v1.jsonld": "https://www.w3.org/2018/credentials/v1",
    "credentials-v2.jsonld": "https://www.w3.org/ns/credentials/v2",
    "credentials-undefined-terms-v2.jsonld": "https://www.w3.org/ns/credentials/undefined-terms/v2",
    "data-integrity-v1.jsonld": "https://w3id.org/security/data-integrity/v1",
    "data-integrity-v2.jsonld": "https://w3id.org/security/data-integrity/v2",
    "multikey-v1.jsonld": "https://w3id.org/security/multikey/v1",
    "ed25519-signature-2020-v1.jsonld": "https://w3id.org/security/suites/ed25519-2020/v1",
    "bitstring-status-list-v1.jsonld": "https://www.w3.org/ns/credentials/status/v1",
    "did-v1.jsonld": "https://www.w3.org/ns/did/v1",
    "ob-v3p0-context-3.0.0.jsonld": "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "ob-v3p0-context-3.0.1.jsonld": "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "ob-v3p0-context-3.0.2.jsonld": "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "ob-v3p0-context-3.0.3.jsonld": "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "ob-v3p0-extensions.jsonld": "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    "microcred-v1.jsonld": "https://w3id.org/microcred/v1",
}

manifest = {}
for name, url in sorted(URLS.items(), key=lambda kv: kv[1]):
    data = (HERE / name).read_bytes()
    json.loads(data)
    manifest[url] = {"file": name, "sha256": hashlib.sha256(data).hexdigest()}
(HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
print(f"pinned {len(manifest)} contexts")
