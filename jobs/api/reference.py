"""``docs/api.md``: the API reference, generated from the OpenAPI document the server publishes.

    python -m jobs.api.reference > docs/api.md

A test fails when the committed file and the live document disagree, so the reference can
never drift from what the server does. Its "Limits" section is built from the constants
that enforce them (:mod:`jobs.api.limits_reference`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from jobs.api import limits_reference
from jobs.api.reference_operations import operation_schema_names, render_operations

HEADER = """# Darkroom HTTP API reference

Generated from `/openapi.json` by `python -m jobs.api.reference` — do not edit by hand.
Authenticate with `x-api-key: KEY` or `Authorization: Bearer KEY`. Every POST accepts an
`Idempotency-Key` header (same key + same request → same answer for 24 h; another request → 409).
Errors are `{"status", "error", "message", "field"?}`.

A missing or wrong key is answered 401 from the headers, before the body is read. Rate
limits (429 + `Retry-After`): per API key (idempotent replays count), per client address for
requests without a key, and per client address for failed authentications — once those are
spent, every key from that address is refused until `Retry-After`, right ones included.
JSON bodies nest at most 32 levels (deeper: 400).
"""


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        return " \\| ".join(_type(s) for s in schema["anyOf"])
    if "oneOf" in schema:
        return "one of " + ", ".join(_type(s) for s in schema["oneOf"])
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    text = str(schema.get("type", "any"))
    return f"{text} ({schema['format']})" if "format" in schema else text


def _cell(text: Any) -> str:
    return str(text or "").replace("\n", " ").replace("|", "\\|")


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", "", _cell(op.get("description") or op.get("summary")), ""]
    params = op.get("parameters", [])
    if params:
        lines += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        for p in params:
            schema = p.get("schema", {})
            required = "yes" if p.get("required") else "no"
            description = _cell(p.get("description") or schema.get("description"))
            lines.append(f"| `{p['name']}` | {p['in']} | {_type(schema)} | {required} | {description} |")
        lines.append("")
    body = op.get("requestBody", {}).get("content", {})
    for media, spec in body.items():
        lines += [f"Request body (`{media}`): {_type(spec.get('schema', {}))}", ""]
    lines += ["| status | body | meaning |", "|---|---|---|"]
    for code, response in sorted(op.get("responses", {}).items()):
        content = response.get("content", {})
        schemas = ", ".join(
            _type(c.get("schema", {})) if c.get("schema") else f"`{m}`" for m, c in content.items()
        )
        lines.append(f"| {code} | {schemas or '-'} | {_cell(response.get('description'))} |")
    return [*lines, ""]


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", "", _cell(schema.get("description")), ""]
    props = schema.get("properties", {})
    if props:
        required = set(schema.get("required", []))
        lines += ["| field | type | required | description |", "|---|---|---|---|"]
        for prop, spec in props.items():
            needed = "yes" if prop in required else "no"
            lines.append(f"| `{prop}` | {_type(spec)} | {needed} | {_cell(spec.get('description'))} |")
        lines.append("")
    for example in schema.get("examples", [])[:1]:
        lines += ["```json", json.dumps(example, indent=2, default=str), "```", ""]
    return lines


def render(spec: dict[str, Any]) -> str:
    lines = [HEADER, f"API version {spec['info']['version']}.", ""]
    by_tag: dict[str, list[list[str]]] = {}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append(_operation(method, path, op))
    for tag, blocks in by_tag.items():
        lines += [f"## {tag}", ""]
        for block in blocks:
            lines += block
    lines += render_operations(spec, _type, _cell)
    lines += limits_reference.section()
    lines += ["## Schemas", ""]
    operations = set(operation_schema_names(spec))
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        if name not in operations:  # those have their own section
            lines += _schema(name, schema)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    from jobs.api import create_app
    from jobs.contract.settings import Settings

    sys.stdout.write(render(create_app(Settings()).openapi()))


if __name__ == "__main__":
    main()
