"""openapi.yaml at the repository root is the application's schema, and it promises RFC 9457
problem details for every error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from microcred.app import create_app
from microcred.config import Settings

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_YAML = ROOT / "openapi.yaml"
REGENERATE = ".venv/bin/python scripts/gen_openapi.py"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def app_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scratch = tmp_path_factory.mktemp("openapi")
    settings = Settings(key_passphrase=SecretStr("x"), data_dir=scratch, keys_dir=scratch / "keys", run_jobs=False)
    schema: dict[str, Any] = create_app(settings, migrate=False).openapi()
    return schema


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method.upper(), operation


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


#: Endpoints that implement another specification answer errors in the shape it requires: the
#: OB 3.0 API an Imsx_StatusInfo, the OAuth 2.0 endpoints an OAuth error object. Every other
#: error answer is RFC 9457 problem details, and so is a 429 of the rate limits everywhere.
SPECIFICATION_ERRORS = {
    "/ims/ob/v3p0/": {"application/json": {"schema": {"$ref": "#/components/schemas/Imsx_StatusInfo"}}},
    "/oauth/": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthErrorBody"}}},
}
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def error_content(path: str, status: str) -> dict[str, Any]:
    if status == "429":  # the rate limits stand in front of every endpoint, whatever it implements
        return PROBLEM_CONTENT
    return next((content for prefix, content in SPECIFICATION_ERRORS.items() if path.startswith(prefix)), PROBLEM_CONTENT)


class TestOpenapiYaml:
    def test_matches_the_schema_the_app_serves(self, app_schema: dict[str, Any]) -> None:
        assert OPENAPI_YAML.exists(), f"openapi.yaml is missing: run {REGENERATE}"
        committed = yaml.safe_load(OPENAPI_YAML.read_text(encoding="utf-8"))
        if committed != app_schema:
            drifted = sorted(
                {f"paths {p}" for p in set(committed.get("paths", {})) ^ set(app_schema["paths"])}
                | {f"paths {p}" for p in set(committed.get("paths", {})) & set(app_schema["paths"]) if committed["paths"][p] != app_schema["paths"][p]}
                | {
                    f"components/schemas {n}"
                    for n in set(committed.get("components", {}).get("schemas", {})) | set(app_schema["components"]["schemas"])
                    if committed.get("components", {}).get("schemas", {}).get(n) != app_schema["components"]["schemas"].get(n)
                }
            )
            pytest.fail(
                f"openapi.yaml differs from the application's schema ({', '.join(drifted) or 'info or top-level keys'}); "
                f"run {REGENERATE} and commit the result"
            )


class TestSchema:
    def test_every_reference_resolves(self, app_schema: dict[str, Any]) -> None:
        components = app_schema["components"]["schemas"]
        dangling = sorted({r for r in refs(app_schema) if r.removeprefix("#/components/schemas/") not in components})
        assert not dangling, f"$ref to schemas missing from components/schemas: {dangling}"

    def test_problem_schema_has_the_rfc_9457_members(self, app_schema: dict[str, Any]) -> None:
        problem = app_schema["components"]["schemas"]["Problem"]
        assert set(problem["required"]) == {"type", "title", "status", "detail"}
        assert {"instance", "errors"} <= set(problem["properties"])

    def test_every_error_answer_is_problem_json(self, app_schema: dict[str, Any]) -> None:
        wrong = [
            f"{method} {path} {status}: {sorted(response.get('content', {})) or 'no content'}"
            for path, method, operation in operations(app_schema)
            for status, response in operation["responses"].items()
            if (status[0] in "45" or status == "default") and response.get("content") != error_content(path, status)
        ]
        assert not wrong, "4xx/5xx answers must be documented as application/problem+json with the Problem schema only:\n" + "\n".join(wrong)

    def test_every_api_route_documents_401_404_and_422(self, app_schema: dict[str, Any]) -> None:
        api = [(path, method, op) for path, method, op in operations(app_schema) if path.startswith("/api/v1/")]
        assert api
        missing = [f"{method} {path}: {sorted({'401', '404', '422'} - set(op['responses']))}" for path, method, op in api if not {"401", "404", "422"} <= set(op["responses"])]
        assert not missing, "\n".join(missing)

    def test_every_api_route_asks_for_the_bearer_key(self, app_schema: dict[str, Any]) -> None:
        assert app_schema["components"]["securitySchemes"]["apiKey"] == {
            "type": "http",
            "scheme": "bearer",
            "description": app_schema["components"]["securitySchemes"]["apiKey"]["description"],
        }
        public = {"/api/v1/verify"}  # verification is for anyone (issue 4)
        missing = [
            f"{method} {path}"
            for path, method, op in operations(app_schema)
            if path.startswith("/api/v1/") and path not in public and op.get("security") != [{"apiKey": []}]
        ]
        assert not missing, missing
        assert all("security" not in op for path, _, op in operations(app_schema) if path in public)

    def test_operation_ids_are_unique(self, app_schema: dict[str, Any]) -> None:
        ids = [op["operationId"] for _, _, op in operations(app_schema)]
        assert len(ids) == len(set(ids))
