"""docs/api.md is the OpenAPI document rendered; they never drift apart."""

from __future__ import annotations

from pathlib import Path

from jobs.api import create_app
from jobs.api.reference import render
from jobs.contract.settings import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def test_docs_api_md_matches_the_published_openapi() -> None:
    spec = create_app(Settings()).openapi()
    assert DOC.read_text() == render(spec), "regenerate with: python -m jobs.api.reference > docs/api.md"


def test_every_operation_documents_its_errors_and_every_schema_has_an_example() -> None:
    spec = create_app(Settings()).openapi()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            responses = op["responses"]
            assert {"500", "503"} <= set(responses), (method, path)
            if path.startswith("/v1/"):
                assert {"400", "401", "404", "429"} <= set(responses), (method, path)
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    ref = response["content"]["application/json"]["schema"].get("$ref", "")
                    assert not ref.endswith("HTTPValidationError"), (method, path, code)
    for name, schema in spec["components"]["schemas"].items():
        assert schema.get("examples") not in (None, [], [{}]), name
