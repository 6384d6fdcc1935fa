"""Colours in operation parameters: ``#rgb``, ``#rgba``, ``#rrggbb``, ``#rrggbbaa`` or a CSS name.

They are normalised to lowercase ``#rrggbb`` (``#rrggbbaa`` when not opaque) so equal colours
hash equally in :func:`jobs.contract.operations.canonical_json`.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

COLOR_NAMES: dict[str, str] = {
    "transparent": "#00000000",
    "black": "#000000",
    "white": "#ffffff",
    "red": "#ff0000",
    "green": "#008000",
    "lime": "#00ff00",
    "blue": "#0000ff",
    "yellow": "#ffff00",
    "cyan": "#00ffff",
    "aqua": "#00ffff",
    "magenta": "#ff00ff",
    "fuchsia": "#ff00ff",
    "gray": "#808080",
    "grey": "#808080",
    "silver": "#c0c0c0",
    "maroon": "#800000",
    "olive": "#808000",
    "navy": "#000080",
    "purple": "#800080",
    "teal": "#008080",
    "orange": "#ffa500",
    "pink": "#ffc0cb",
    "brown": "#a52a2a",
}
_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")


def normalize_color(value: str) -> str:
    """``"Red"``, ``"#F00"``, ``"#ff0000ff"`` → ``"#ff0000"``; raise ``ValueError`` otherwise."""
    text = value.strip().lower()
    text = COLOR_NAMES.get(text, text)
    match = _HEX.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid colour {value!r}: use #rgb, #rrggbb, #rrggbbaa or a CSS colour name")
    digits = match.group(1)
    if len(digits) <= 4:
        digits = "".join(ch * 2 for ch in digits)
    if len(digits) == 8 and digits.endswith("ff"):
        digits = digits[:6]
    return "#" + digits


def parse_color(value: str) -> tuple[int, int, int, int]:
    """A colour string (any accepted spelling) → ``(r, g, b, a)``."""
    digits = normalize_color(value)[1:]
    if len(digits) == 6:
        digits += "ff"
    r, g, b, a = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
    return r, g, b, a


# The published pattern spells the usual forms (lowercase names, hex digits in either case) so a
# schema-driven client generates colours the server takes; the server also accepts any case of a
# name and surrounding spaces (normalize_color), which this pattern does not advertise.
COLOR_PATTERN = "^(#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|" + "|".join(COLOR_NAMES) + ")$"
Color = Annotated[
    str,
    AfterValidator(normalize_color),
    Field(examples=["#ff0000", "white"], json_schema_extra={"pattern": COLOR_PATTERN}),
]
