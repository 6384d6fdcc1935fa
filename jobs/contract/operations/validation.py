"""Turning caller input into operation models, and pipelines into stable JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from jobs.contract.errors import InvalidRequest
from jobs.contract.operations.models import OPERATION_NAMES, Operation, _Op

MAX_OPERATIONS = 10
_OPERATION: TypeAdapter[Operation] = TypeAdapter(Operation)


def _field_path(index: int, error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in OPERATION_NAMES:  # the union tag pydantic puts first
        loc = loc[1:]
    loc = [part for part in loc if "[" not in part]  # union member labels such as "literal[...]"
    ctx = error.get("ctx") or {}
    if error.get("type") == "invalid_operation" and "field" in ctx:
        loc.append(str(ctx["field"]))
    elif error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        loc = ["op"]
    return f"operations[{index}]" + "".join(f".{part}" for part in loc)


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "union_tag_invalid":
        return f"unknown op; expected one of: {', '.join(OPERATION_NAMES)}"
    if error.get("type") == "union_tag_not_found":
        return "every operation needs an 'op' field"
    return str(error.get("msg", "invalid value"))


def validate_operation(raw: Any, index: int = 0) -> Operation:
    """One raw operation (dict or model) → its model; errors name ``operations[index].field``."""
    if isinstance(raw, _Op):
        return raw  # type: ignore[return-value]  # validated when it was built (models are frozen)
    try:
        return _OPERATION.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_path(index, first)
        raise InvalidRequest(f"{field}: {_message(first)}", field=field) from None


def validate_operations(raw: Any) -> list[Operation]:
    """A caller's ``operations`` list → models; raise :class:`InvalidRequest` naming the field."""
    if not isinstance(raw, list | tuple):
        raise InvalidRequest("operations must be a list", field="operations")
    if len(raw) > MAX_OPERATIONS:
        raise InvalidRequest(f"at most {MAX_OPERATIONS} operations are allowed", field="operations")
    return [validate_operation(item, i) for i, item in enumerate(raw)]


def canonical_json(ops: Sequence[Operation | Mapping[str, Any]]) -> str:
    """Stable JSON of a pipeline (defaults filled, keys sorted, colours normalised): hash it for caches."""
    models = [op if isinstance(op, _Op) else validate_operation(op, i) for i, op in enumerate(ops)]
    dumped = [m.model_dump(mode="json") for m in models]
    return json.dumps(dumped, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
