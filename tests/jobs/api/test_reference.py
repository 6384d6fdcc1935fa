"""docs/api.md is the OpenAPI document rendered; they never drift apart."""

from __future__ import annotations

from pathlib import Path

from jobs.api import create_app
from jobs.api.reference import render
from jobs.contract.operations import OPERATION_NAMES, validate_operation
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


def test_every_operation_is_published_as_its_own_schema_with_an_example() -> None:
    """`operations` items are a union discriminated on `op`, one documented schema per op."""
    spec = create_app(Settings()).openapi()
    schemas = spec["components"]["schemas"]
    for body in ("TransformRequest", "RenderUrlRequest"):
        items = schemas[body]["properties"]["operations"]["items"]
        mapping = items["discriminator"]["mapping"]
        assert items["discriminator"]["propertyName"] == "op", body
        assert set(mapping) == set(OPERATION_NAMES), body
        assert [m["$ref"] for m in items["oneOf"]] == [mapping[name] for name in OPERATION_NAMES], body
    for name, ref in mapping.items():
        schema = schemas[ref.rsplit("/", 1)[1]]
        assert schema["properties"]["op"]["const"] == name
        assert schema.get("description"), name
        for prop, prop_spec in schema["properties"].items():
            assert prop_spec.get("description"), (name, prop)
        assert schema["examples"], name
        for example in schema["examples"]:
            assert validate_operation(example).op == name, example  # type: ignore[union-attr]


def test_the_reference_has_a_table_for_every_operation() -> None:
    text = DOC.read_text()
    operations = text.split("## Operations", 1)[1].split("## Schemas", 1)[0]
    for name in OPERATION_NAMES:
        assert f"`op: {name}`" in operations, name
    assert "| field | type | range | default | description | example |" in operations
