"""The "Operations" section of ``docs/api.md``: one table per ``op`` from its published schema.

The operation schemas are the members of the union discriminated on ``op`` that the request
bodies reference; each gets its parameters with type, range, default, description and an
example, so the reference says everything a caller may put in ``operations``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

BOUNDS = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("minLength", "length ≥ {}"),
    ("maxLength", "length ≤ {}"),
    ("pattern", "matches `{}`"),
)
INTRO = (
    "Each item of `operations` is one of these objects, chosen by its `op` (a union discriminated "
    "on `op`). Operations apply in order, at most 10 per request; unknown fields are refused (400 "
    "naming `operations[i].field`). See docs/operations-gallery.md for a picture of each effect."
)


def operation_schema_names(spec: dict[str, Any]) -> list[str]:
    """The schemas named by an ``op`` discriminator anywhere in the document, in union order."""
    names: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("discriminator", {}).get("propertyName") == "op":
                for member in node.get("oneOf", []):
                    names.setdefault(member["$ref"].rsplit("/", 1)[1], None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return list(names)


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _range(spec: dict[str, Any]) -> str:
    parts = [spec, *spec.get("anyOf", [])]
    found = [fmt.format(_number(part[key])) for part in parts for key, fmt in BOUNDS if key in part]
    return ", ".join(found)


def _code(value: Any) -> str:
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _example(prop: str, examples: list[dict[str, Any]]) -> str:
    for example in examples:
        if prop in example:
            return _code(example[prop])
    return ""


def render_operations(
    spec: dict[str, Any], type_of: Callable[[dict[str, Any]], str], cell: Callable[[Any], str]
) -> list[str]:
    schemas = spec.get("components", {}).get("schemas", {})
    names = operation_schema_names(spec)
    if not names:
        return []
    lines = ["## Operations", "", INTRO, ""]
    for name in names:
        schema = schemas[name]
        op = schema["properties"]["op"].get("const", name)
        lines += [f"### {name}", "", f"`op: {op}` — {cell(schema.get('description'))}", ""]
        required = set(schema.get("required", []))
        examples = schema.get("examples", [])
        params = {k: v for k, v in schema["properties"].items() if k != "op"}
        if params:
            lines += [
                "| field | type | range | default | description | example |",
                "|---|---|---|---|---|---|",
            ]
            for prop, prop_spec in params.items():
                default = "required" if prop in required else _code(prop_spec.get("default"))
                lines.append(
                    f"| `{prop}` | {type_of(prop_spec)} | {cell(_range(prop_spec))} | {cell(default)} "
                    f"| {cell(prop_spec.get('description'))} | {cell(_example(prop, examples))} |"
                )
            lines.append("")
        for example in examples:
            lines += ["```json", json.dumps(example, ensure_ascii=False), "```", ""]
    return lines
