"""Operation specs: every op validates, bad input is rejected naming the field, canonical JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jobs.contract.errors import InvalidRequest
from jobs.contract.operations import (
    MAX_OPERATIONS,
    OPERATION_NAMES,
    Crop,
    Resize,
    canonical_json,
    normalize_color,
    parse_color,
    validate_operations,
)
from jobs.services.render_urls import cache_digest

VALID: list[dict[str, Any]] = [
    {"op": "resize", "width": 300},
    {"op": "resize", "height": 200, "fit": "cover", "gravity": "smart", "background": "#fff"},
    {"op": "crop", "x": 0, "y": 0, "width": 10, "height": 10},
    {"op": "crop", "width": 100, "height": 50, "gravity": "northeast"},
    {"op": "crop", "aspect": "16:9", "gravity": "focal", "focal_x": 0.2, "focal_y": 0.8},
    {"op": "rotate", "angle": -37.5, "background": "black"},
    {"op": "flip", "direction": "both"},
    {"op": "trim", "threshold": 30},
    {"op": "pad", "top": 1, "right": 2, "bottom": 3, "left": 4, "background": "#11223344"},
    {"op": "round_corners", "radius": 12},
    {"op": "modulate", "brightness": 1.1, "contrast": 0.9, "saturation": 0},
    {"op": "grayscale"},
    {"op": "sepia"},
    {"op": "invert"},
    {"op": "duotone", "dark": "navy", "light": "#ffcc00"},
    {"op": "tint", "color": "red", "opacity": 0.3},
    {"op": "blur", "sigma": 2.5},
    {"op": "sharpen", "amount": 1.5},
    {"op": "pixelate", "size": 8},
    {
        "op": "watermark",
        "image_id": "image_abcdefghijklmnopqrstuvwx",
        "gravity": "south",
        "opacity": 0.4,
        "scale": 0.3,
    },
    {"op": "watermark", "text": "© Darkroom", "font_size": 24, "color": "#ffffffcc"},
    {"op": "convert", "format": "webp", "quality": 70, "lossless": False},
    {"op": "convert", "format": "jpeg", "progressive": True},
    {"op": "dpr", "factor": 2},
]


def test_every_operation_has_a_valid_example() -> None:
    assert {raw["op"] for raw in VALID} == set(OPERATION_NAMES)


@pytest.mark.parametrize("raw", VALID, ids=[f"{i}-{r['op']}" for i, r in enumerate(VALID)])
def test_valid_operations(raw: dict[str, Any]) -> None:
    [model] = validate_operations([raw])
    assert model.op == raw["op"]


@pytest.mark.parametrize(
    ("raws", "field"),
    [
        ([{"op": "resize", "width": 0}], "operations[0].width"),
        ([{"op": "resize", "width": 100000}], "operations[0].width"),
        ([{"op": "grayscale"}, {"op": "grayscale"}, {"op": "resize", "width": 16385}], "operations[2].width"),
        ([{"op": "resize"}], "operations[0].width"),
        ([{"op": "resize", "width": 10, "fit": "stretch"}], "operations[0].fit"),
        ([{"op": "resize", "width": 10, "gravity": "focal"}], "operations[0].gravity"),
        ([{"op": "resize", "width": 10, "colour": "red"}], "operations[0].colour"),
        ([{"op": "resize", "width": "wide"}], "operations[0].width"),
        ([{"op": "sharpen"}, {"op": "explode"}], "operations[1].op"),
        ([{"width": 3}], "operations[0].op"),
        (["resize"], "operations[0]"),
        ([{"op": "crop", "x": 1, "width": 3, "height": 3}], "operations[0].y"),
        ([{"op": "crop", "x": 1, "y": 1, "width": 3}], "operations[0].height"),
        (
            [{"op": "crop", "x": 1, "y": 1, "width": 3, "height": 3, "gravity": "east"}],
            "operations[0].gravity",
        ),
        ([{"op": "crop", "width": 3}], "operations[0].height"),
        ([{"op": "crop", "aspect": 2, "width": 3}], "operations[0].aspect"),
        ([{"op": "crop", "aspect": "wide"}], "operations[0].aspect"),
        ([{"op": "crop", "aspect": 0}], "operations[0].aspect"),
        ([{"op": "crop", "aspect": 1, "gravity": "focal", "focal_x": 0.5}], "operations[0].focal_y"),
        ([{"op": "crop", "aspect": 1, "focal_x": 0.5, "focal_y": 0.5}], "operations[0].gravity"),
        (
            [{"op": "crop", "aspect": 1, "gravity": "focal", "focal_x": 1.5, "focal_y": 0}],
            "operations[0].focal_x",
        ),
        ([{"op": "rotate"}], "operations[0].angle"),
        ([{"op": "rotate", "angle": 400}], "operations[0].angle"),
        ([{"op": "rotate", "angle": 10, "background": "not-a-colour"}], "operations[0].background"),
        ([{"op": "flip", "direction": "sideways"}], "operations[0].direction"),
        ([{"op": "trim", "threshold": 256}], "operations[0].threshold"),
        ([{"op": "pad"}], "operations[0].top"),
        ([{"op": "pad", "left": -1}], "operations[0].left"),
        ([{"op": "pad", "top": 1, "background": "#12345"}], "operations[0].background"),
        ([{"op": "round_corners", "radius": 0}], "operations[0].radius"),
        ([{"op": "modulate", "brightness": -1}], "operations[0].brightness"),
        ([{"op": "grayscale", "amount": 1}], "operations[0].amount"),
        ([{"op": "duotone", "dark": "#000"}], "operations[0].light"),
        ([{"op": "tint", "color": "red", "opacity": 2}], "operations[0].opacity"),
        ([{"op": "blur", "sigma": 0}], "operations[0].sigma"),
        ([{"op": "sharpen", "amount": 0}], "operations[0].amount"),
        ([{"op": "pixelate", "size": 1}], "operations[0].size"),
        ([{"op": "watermark"}], "operations[0].image_id"),
        (
            [{"op": "watermark", "text": "a", "image_id": "image_abcdefghijklmnopqrstuvwx"}],
            "operations[0].image_id",
        ),
        ([{"op": "watermark", "image_id": "../../etc/passwd"}], "operations[0].image_id"),
        ([{"op": "watermark", "text": ""}], "operations[0].text"),
        (
            [{"op": "watermark", "image_id": "image_abcdefghijklmnopqrstuvwx", "font_size": 9}],
            "operations[0].font_size",
        ),
        ([{"op": "convert", "format": "bmp"}], "operations[0].format"),
        ([{"op": "convert", "format": "jpeg", "quality": 0}], "operations[0].quality"),
        ([{"op": "convert", "format": "jpeg", "lossless": True}], "operations[0].lossless"),
        ([{"op": "convert", "format": "png", "progressive": True}], "operations[0].progressive"),
        ([{"op": "dpr", "factor": 5}], "operations[0].factor"),
        ([{"op": "dpr", "factor": 0.5}], "operations[0].factor"),
    ],
)
def test_invalid_operations_name_the_field(raws: list[Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_operations(raws)
    assert caught.value.field == field
    assert caught.value.code == "invalid_request" and caught.value.status == 400
    assert caught.value.message.startswith(field)
    assert caught.value.to_dict()["field"] == field


def test_pipeline_shape() -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_operations([{"op": "grayscale"}] * (MAX_OPERATIONS + 1))
    assert caught.value.field == "operations"
    with pytest.raises(InvalidRequest):
        validate_operations({"op": "grayscale"})
    assert len(validate_operations([{"op": "grayscale"}] * MAX_OPERATIONS)) == MAX_OPERATIONS
    assert validate_operations([]) == []


def test_defaults() -> None:
    [resize] = validate_operations([{"op": "resize", "width": 10}])
    assert isinstance(resize, Resize)
    assert (resize.fit, resize.enlarge, resize.gravity, resize.background) == (
        "inside",
        False,
        "center",
        None,
    )
    [crop] = validate_operations([{"op": "crop", "aspect": "3:2"}])
    assert isinstance(crop, Crop) and crop.aspect == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("text", "normal", "rgba"),
    [
        ("#F00", "#ff0000", (255, 0, 0, 255)),
        ("#f008", "#ff000088", (255, 0, 0, 136)),
        ("#00FF0080", "#00ff0080", (0, 255, 0, 128)),
        ("#123456ff", "#123456", (0x12, 0x34, 0x56, 255)),
        ("White", "#ffffff", (255, 255, 255, 255)),
        ("transparent", "#00000000", (0, 0, 0, 0)),
    ],
)
def test_colours(text: str, normal: str, rgba: tuple[int, int, int, int]) -> None:
    assert normalize_color(text) == normal
    assert parse_color(text) == rgba


@pytest.mark.parametrize("text", ["red!", "#12", "#1234567", "rgb(1,2,3)", "", "#ggg"])
def test_bad_colours(text: str) -> None:
    with pytest.raises(ValueError, match="colour"):
        normalize_color(text)


def test_canonical_json_is_stable_and_fills_defaults() -> None:
    a = canonical_json(
        [{"op": "resize", "width": 300, "background": "RED"}, {"op": "crop", "aspect": "16:9"}]
    )
    b = canonical_json(
        validate_operations(
            [
                {"background": "#f00", "width": 300, "op": "resize", "fit": "inside"},
                {"aspect": 16 / 9, "op": "crop"},
            ]
        )
    )
    assert a == b
    decoded = json.loads(a)
    assert decoded[0] == {
        "op": "resize", "width": 300, "height": None, "fit": "inside", "enlarge": False,
        "gravity": "center", "background": "#ff0000",
    }  # fmt: skip
    assert list(decoded[0]) == sorted(decoded[0])
    assert " " not in a
    # the render cache's key hashes this JSON (with the format)
    assert cache_digest(
        validate_operations([{"op": "resize", "width": 300, "background": "red"}]), "webp"
    ) != (cache_digest(validate_operations([{"op": "resize", "width": 301, "background": "red"}]), "webp"))
    assert len(cache_digest([], "webp")) == 32


@pytest.mark.parametrize("start", range(0, len(VALID), MAX_OPERATIONS))
def test_dumped_and_canonical_pipelines_validate_again(start: int) -> None:
    raws = VALID[start : start + MAX_OPERATIONS]
    models = validate_operations(raws)
    assert validate_operations([m.model_dump() for m in models]) == models
    assert validate_operations([m.model_dump(mode="json") for m in models]) == models
    assert validate_operations(json.loads(canonical_json(raws))) == models
    assert validate_operations(models) == models


def test_models_are_frozen_and_serialisable() -> None:
    [model] = validate_operations([{"op": "blur"}])
    with pytest.raises(ValueError, match="frozen"):
        model.sigma = 3  # type: ignore[misc,union-attr]
    assert validate_operations([model.model_dump()]) == [model]
