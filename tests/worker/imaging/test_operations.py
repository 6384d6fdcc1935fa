"""Every transform operation, with pixel-level assertions (through ``render``)."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image as PILImage
from PIL import ImageDraw

from jobs.contract.errors import InvalidRequest, TooLarge
from jobs.contract.operations import validate_operations
from tests.support.images import band_extrema
from tests.support.imaging import BLUE, RED, WHITE, close, encode, halves, open_bytes, rgb_at
from worker.imaging import Limits, render

R, B, W = (255, 0, 0, 255), (0, 0, 255, 255), (255, 255, 255, 255)


def run(image: PILImage.Image, ops: list[dict[str, Any]], limits: Limits, **kw: Any) -> PILImage.Image:
    """Render ``ops`` on a lossless PNG of ``image`` (PNG output unless a convert says otherwise)."""
    encoded = render(encode(image, "PNG"), validate_operations(ops), limits, **kw)
    out = open_bytes(encoded.data)
    assert out.size == (encoded.width, encoded.height)
    return out


def px(image: PILImage.Image, x: int, y: int) -> tuple[int, ...]:
    return rgb_at(image, (x, y))


# --- resize ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"width": 100, "height": 100}, (100, 50)),  # inside (default)
        ({"width": 100, "height": 100, "fit": "inside"}, (100, 50)),
        ({"width": 100, "height": 100, "fit": "outside"}, (200, 100)),
        ({"width": 100, "height": 100, "fit": "cover"}, (100, 100)),
        ({"width": 100, "height": 100, "fit": "contain"}, (100, 100)),
        ({"width": 100, "height": 100, "fit": "fill"}, (100, 100)),
        ({"width": 100}, (100, 50)),
        ({"height": 50}, (100, 50)),
        ({"width": 800}, (400, 200)),  # never enlarged by default
        ({"width": 800, "enlarge": True}, (800, 400)),
        ({"width": 800, "height": 800, "fit": "fill"}, (400, 200)),
        ({"width": 800, "height": 800, "fit": "cover", "enlarge": True}, (800, 800)),
    ],
)
def test_resize_dimensions(params: dict[str, Any], size: tuple[int, int], limits: Limits) -> None:
    out = run(halves(400, 200), [{"op": "resize", **params}], limits)
    assert out.size == size
    assert close(px(out, 2, size[1] // 2), R, 40)  # left stays red
    assert close(px(out, size[0] - 3, size[1] // 2), B, 40)  # right stays blue


@pytest.mark.parametrize(("gravity", "colour"), [("center", None), ("west", R), ("east", B)])
def test_resize_cover_gravity(gravity: str, colour: tuple[int, ...] | None, limits: Limits) -> None:
    op = {"op": "resize", "width": 100, "height": 100, "fit": "cover", "gravity": gravity}
    out = run(halves(400, 200), [op], limits)
    assert out.size == (100, 100)
    if colour is None:
        assert close(px(out, 10, 50), R, 10) and close(px(out, 90, 50), B, 10)
    else:
        assert close(px(out, 5, 50), colour, 10) and close(px(out, 95, 50), colour, 10)


def test_resize_cover_smart_finds_the_detail(limits: Limits) -> None:
    image = PILImage.new("RGB", (400, 200), (128, 128, 128))
    image.paste(PILImage.effect_noise((120, 200), 80).convert("RGB"), (280, 0))  # busy right side

    def column_spread(out: PILImage.Image, x: int) -> int:
        values = [px(out, x, y)[0] for y in range(0, 100, 5)]
        return max(values) - min(values)

    for gravity, noisy in (("smart", True), ("center", False)):
        op = {"op": "resize", "width": 100, "height": 100, "fit": "cover", "gravity": gravity}
        out = run(image, [op], limits)
        assert out.size == (100, 100)
        assert (column_spread(out, 60) > 40) is noisy, gravity  # x=60 shows source x≈320 only when smart


def test_resize_contain_pads_with_transparency_or_background(limits: Limits) -> None:
    out = run(halves(400, 200), [{"op": "resize", "width": 100, "height": 100, "fit": "contain"}], limits)
    assert px(out, 50, 5)[3] == 0  # letterbox band
    assert close(px(out, 10, 50), R, 10)
    op = {
        "op": "resize",
        "width": 100,
        "height": 100,
        "fit": "contain",
        "background": "#00ff00",
        "gravity": "north",
    }
    out = run(halves(400, 200), [op], limits)
    assert close(px(out, 50, 95), (0, 255, 0, 255), 0)  # band at the bottom: image placed north
    assert close(px(out, 10, 10), R, 10)


def test_dpr_multiplies_later_resizes(limits: Limits) -> None:
    out = run(halves(400, 200), [{"op": "dpr", "factor": 2}, {"op": "resize", "width": 100}], limits)
    assert out.size == (200, 100)


def test_resize_result_over_the_pixel_limit_is_too_large(limits: Limits) -> None:
    op = {"op": "resize", "width": 16384, "height": 16384, "fit": "fill", "enlarge": True}
    with pytest.raises(TooLarge) as caught:
        run(halves(40, 20), [op], Limits(max_pixels=1_000_000))
    assert caught.value.field == "operations[0].width"


# --- crop ------------------------------------------------------------------------------------


def test_crop_absolute(limits: Limits) -> None:
    out = run(halves(200, 100), [{"op": "crop", "x": 90, "y": 10, "width": 20, "height": 30}], limits)
    assert out.size == (20, 30)
    assert close(px(out, 5, 5), R, 0) and close(px(out, 15, 5), B, 0)


def test_crop_is_clamped_to_the_image(limits: Limits) -> None:
    out = run(halves(200, 100), [{"op": "crop", "x": 150, "y": 50, "width": 500, "height": 500}], limits)
    assert out.size == (50, 50)


def test_crop_outside_the_image_names_the_field(limits: Limits) -> None:
    with pytest.raises(InvalidRequest) as caught:
        run(
            halves(200, 100),
            [{"op": "resize", "width": 100}, {"op": "crop", "x": 10, "y": 60, "width": 5, "height": 5}],
            limits,
        )
    assert caught.value.field == "operations[1].y"


@pytest.mark.parametrize(
    ("gravity", "colour"),
    [("west", R), ("east", B), ("northwest", R), ("southeast", B)],
)
def test_crop_gravity(gravity: str, colour: tuple[int, ...], limits: Limits) -> None:
    out = run(halves(200, 100), [{"op": "crop", "width": 80, "height": 50, "gravity": gravity}], limits)
    assert out.size == (80, 50)
    assert close(px(out, 2, 2), colour, 0) and close(px(out, 77, 47), colour, 0)


def test_crop_aspect_centre(limits: Limits) -> None:
    out = run(halves(200, 100), [{"op": "crop", "aspect": "1:1"}], limits)
    assert out.size == (100, 100)
    assert close(px(out, 10, 50), R, 0) and close(px(out, 90, 50), B, 0)
    out = run(halves(200, 100), [{"op": "crop", "aspect": 4}], limits)
    assert out.size == (200, 50)


def test_crop_focal(limits: Limits) -> None:
    image = PILImage.new("RGB", (200, 200), WHITE)
    image.paste(RED, (150, 20, 170, 40))  # the subject, around (0.8, 0.15)
    op = {"op": "crop", "width": 50, "height": 50, "gravity": "focal", "focal_x": 0.8, "focal_y": 0.15}
    out = run(image, [op], limits)
    assert out.size == (50, 50)
    assert close(px(out, 25, 25), R, 0)


def test_crop_smart(limits: Limits) -> None:
    image = PILImage.new("RGB", (300, 100), (90, 90, 90))
    ImageDraw.Draw(image).rectangle((10, 20, 60, 80), fill=(255, 200, 0), outline=(0, 0, 0), width=3)
    out = run(image, [{"op": "crop", "width": 100, "height": 100, "gravity": "smart"}], limits)
    assert out.size == (100, 100)
    assert close(px(out, 35 - 0, 50), (255, 200, 0, 255), 10)  # the yellow box is in the crop


# --- rotate / flip ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("angle", "size", "red_at"),
    [
        (90, (100, 200), (50, 10)),
        (180, (200, 100), (190, 50)),
        (-90, (100, 200), (50, 190)),
        (270, (100, 200), (50, 190)),
        (360, (200, 100), (10, 50)),
    ],
)
def test_rotate_quarter_turns_are_exact(
    angle: int, size: tuple[int, int], red_at: tuple[int, int], limits: Limits
) -> None:
    out = run(halves(200, 100), [{"op": "rotate", "angle": angle}], limits)
    assert out.size == size
    assert px(out, *red_at) == R


def test_rotate_any_angle_expands_with_background(limits: Limits) -> None:
    out = run(halves(100, 100), [{"op": "rotate", "angle": 45}], limits)
    assert 139 <= out.width <= 143 and out.size[0] == out.size[1]
    assert px(out, 2, 2)[3] == 0  # corners are transparent
    jpeg = render(
        encode(halves(100, 100), "PNG"),
        validate_operations(
            [{"op": "rotate", "angle": 30, "background": "black"}, {"op": "convert", "format": "jpeg"}]
        ),
        limits,
    )
    assert close(rgb_at(jpeg.data, (2, 2)), (0, 0, 0, 255), 8)


@pytest.mark.parametrize(
    ("direction", "checks"),
    [
        ("horizontal", [((10, 50), B), ((190, 50), R)]),
        ("vertical", [((10, 10), R), ((190, 90), B)]),
        ("both", [((10, 50), B), ((190, 50), R)]),
    ],
)
def test_flip(direction: str, checks: list[tuple[tuple[int, int], tuple[int, ...]]], limits: Limits) -> None:
    image = halves(200, 100)
    image.paste((0, 255, 0), (0, 0, 20, 5))  # a green mark at the top-left
    out = run(image, [{"op": "flip", "direction": direction}], limits)
    for xy, colour in checks:
        assert px(out, *xy) == colour
    green_at = {"horizontal": (190, 2), "vertical": (10, 97), "both": (190, 97)}[direction]
    assert px(out, *green_at) == (0, 255, 0, 255)


# --- trim / pad / round corners --------------------------------------------------------------


def test_trim_removes_uniform_borders(limits: Limits) -> None:
    image = PILImage.new("RGB", (100, 100), WHITE)
    image.paste(BLUE, (40, 30, 60, 60))
    image.putpixel((45, 35), (250, 250, 250))
    out = run(image, [{"op": "trim"}], limits)
    assert out.size == (20, 30)
    assert px(out, 0, 0)[:3] == BLUE


def test_trim_threshold_and_transparent_borders(limits: Limits) -> None:
    image = PILImage.new("RGB", (50, 50), (200, 200, 200))
    image.paste((205, 205, 205), (0, 0, 10, 50))  # faint stripe: within threshold 10
    image.paste(RED, (20, 20, 30, 30))
    assert run(image, [{"op": "trim"}], limits).size == (10, 10)
    # threshold 2: the 200-grey background differs from the 205 corner, only the stripe goes
    assert run(image, [{"op": "trim", "threshold": 2}], limits).size == (40, 50)
    clear = PILImage.new("RGBA", (50, 50), (0, 0, 0, 0))
    clear.paste((0, 0, 255, 255), (5, 10, 15, 40))
    assert run(clear, [{"op": "trim"}], limits).size == (10, 30)


def test_uniform_image_is_not_trimmed(limits: Limits) -> None:
    assert run(PILImage.new("RGB", (30, 20), RED), [{"op": "trim"}], limits).size == (30, 20)


def test_pad(limits: Limits) -> None:
    op = {"op": "pad", "top": 10, "right": 20, "bottom": 30, "left": 40, "background": "#00ff00"}
    out = run(halves(200, 100), [op], limits)
    assert out.size == (260, 140)
    assert px(out, 5, 5) == (0, 255, 0, 255)
    assert px(out, 45, 15) == R
    assert px(out, 235, 105) == B
    out = run(halves(20, 10), [{"op": "pad", "top": 5}], limits)
    assert out.size == (20, 15) and px(out, 10, 2)[3] == 0  # default: transparent


def test_pad_background_shows_through_transparent_pixels(limits: Limits) -> None:
    ops = [{"op": "round_corners", "radius": 20}, {"op": "pad", "top": 4, "left": 4, "background": "#0000ff"}]
    out = run(halves(100, 60), ops, limits)
    assert px(out, 5, 5) == B  # the rounded-off corner is now the pad colour
    assert px(out, 1, 1) == B and px(out, 50, 30)[:3] == (255, 0, 0)
    semi = run(halves(100, 60), [ops[0], {"op": "pad", "top": 4, "background": "#0000ff80"}], limits)
    assert close(px(semi, 1, 5), (0, 0, 255, 128), 1)


def test_round_corners(limits: Limits) -> None:
    out = run(halves(200, 100), [{"op": "round_corners", "radius": 30}], limits)
    assert out.size == (200, 100)
    assert px(out, 0, 0)[3] == 0 and px(out, 199, 99)[3] == 0 and px(out, 199, 0)[3] == 0
    assert px(out, 100, 50)[3] == 255 and px(out, 30, 0)[3] == 255 and px(out, 0, 30)[3] == 255
    jpeg = render(
        encode(halves(200, 100), "PNG"), validate_operations([{"op": "round_corners", "radius": 30}]), limits
    )
    assert jpeg.format == "png"  # the parent's format


# --- colour ----------------------------------------------------------------------------------


def test_modulate(limits: Limits) -> None:
    image = halves(40, 20, left=(200, 100, 50), right=(20, 40, 200))
    assert px(run(image, [{"op": "modulate", "brightness": 0}], limits), 5, 5) == (0, 0, 0, 255)
    grey = px(run(image, [{"op": "modulate", "saturation": 0}], limits), 5, 5)
    assert grey[0] == grey[1] == grey[2]
    flat = run(image, [{"op": "modulate", "contrast": 0}], limits)
    assert px(flat, 5, 5) == px(flat, 35, 5)
    brighter = px(run(image, [{"op": "modulate", "brightness": 1.2}], limits), 5, 5)
    assert brighter[0] == 240 and brighter[1] == 120


def test_grayscale(limits: Limits) -> None:
    out = run(halves(40, 20), [{"op": "grayscale"}], limits)
    r, g, b, _ = px(out, 5, 5)
    assert r == g == b and 70 <= r <= 80  # luma of pure red ≈ 76


def test_sepia(limits: Limits) -> None:
    out = run(PILImage.new("RGB", (10, 10), (100, 100, 100)), [{"op": "sepia"}], limits)
    r, g, b, _ = px(out, 5, 5)
    assert r > g > b
    assert close((r, g, b), (135, 120, 94), 2)


def test_invert_keeps_alpha(limits: Limits) -> None:
    image = halves(40, 20, left=(255, 0, 0, 128), right=(0, 0, 255, 255), mode="RGBA")
    out = run(image, [{"op": "invert"}], limits)
    assert px(out, 5, 5) == (0, 255, 255, 128)
    assert px(out, 35, 5) == (255, 255, 0, 255)


def test_duotone(limits: Limits) -> None:
    image = halves(40, 20, left=(0, 0, 0), right=(255, 255, 255))
    out = run(image, [{"op": "duotone", "dark": "#000080", "light": "yellow"}], limits)
    assert px(out, 5, 5) == (0, 0, 128, 255)
    assert px(out, 35, 5) == (255, 255, 0, 255)


def test_tint(limits: Limits) -> None:
    out = run(PILImage.new("RGB", (10, 10), WHITE), [{"op": "tint", "color": "#f00", "opacity": 0.5}], limits)
    assert close(px(out, 5, 5), (255, 128, 128, 255), 1)


# --- filters ---------------------------------------------------------------------------------


def test_blur_softens_edges(limits: Limits) -> None:
    out = run(halves(100, 20), [{"op": "blur", "sigma": 4}], limits)
    r, _, b, _ = px(out, 50, 10)
    assert 60 < r < 200 and 60 < b < 200  # the edge is now a mix
    assert px(out, 2, 10)[0] > 240  # far from the edge unchanged


def test_blur_does_not_bleed_transparent_colour(limits: Limits) -> None:
    image = halves(40, 20, left=(255, 0, 0, 0), right=(0, 0, 255, 255), mode="RGBA")
    out = run(image, [{"op": "blur", "sigma": 3}], limits)
    r, _, b, a = px(out, 22, 10)
    assert 0 < a < 255 and r < 10 and b > 240


def test_sharpen_increases_edge_contrast(limits: Limits) -> None:
    image = PILImage.linear_gradient("L").resize((64, 64)).convert("RGB")
    soft = halves(60, 20, left=(100, 100, 100), right=(160, 160, 160))
    out = run(soft, [{"op": "sharpen", "amount": 2}], limits)
    assert px(out, 28, 10)[0] < 100 and px(out, 31, 10)[0] > 160  # overshoot on both sides
    assert run(image, [{"op": "sharpen"}], limits).size == (64, 64)


def test_pixelate_makes_uniform_blocks(limits: Limits) -> None:
    image = PILImage.linear_gradient("L").resize((100, 100)).convert("RGB")
    out = run(image, [{"op": "pixelate", "size": 10}], limits)
    assert out.size == (100, 100)
    block = {px(out, x, y) for x in range(10, 20) for y in range(30, 40)}
    assert len(block) == 1
    assert px(out, 15, 35) != px(out, 15, 45)


# --- watermark -------------------------------------------------------------------------------


def test_text_watermark_changes_only_its_corner(limits: Limits) -> None:
    base = PILImage.new("RGB", (300, 200), (0, 0, 128))
    out = run(
        base,
        [{"op": "watermark", "text": "DARKROOM", "opacity": 1, "color": "white", "font_size": 30}],
        limits,
    )
    corner = out.crop((150, 140, 300, 200)).convert("RGB")
    assert band_extrema(corner)[0][1] > 200
    assert out.crop((0, 0, 150, 100)).convert("RGB").getcolors() == [(15000, (0, 0, 128))]


def test_image_watermark(limits: Limits) -> None:
    mark = encode(PILImage.new("RGB", (40, 40), RED), "PNG")
    image_id = "image_" + "a" * 24
    op = {"op": "watermark", "image_id": image_id, "gravity": "northwest", "opacity": 1, "scale": 0.25}
    out = run(PILImage.new("RGB", (200, 100), BLUE), [op], limits, assets={image_id: mark})
    assert px(out, 2 + 25, 2 + 25) == R  # 50x50 mark, 2 px margin
    assert px(out, 100, 80) == B
    op["opacity"] = 0.5
    half = px(run(PILImage.new("RGB", (200, 100), BLUE), [op], limits, assets={image_id: mark}), 27, 27)
    assert close(half, (128, 0, 127, 255), 2)


def test_missing_watermark_asset_names_the_field(limits: Limits) -> None:
    op = {"op": "watermark", "image_id": "image_" + "b" * 24}
    with pytest.raises(InvalidRequest) as caught:
        run(halves(), [{"op": "grayscale"}, op], limits)
    assert caught.value.field == "operations[1].image_id"


# --- convert / pipeline ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif", "gif"])
def test_convert(fmt: str, limits: Limits) -> None:
    encoded = render(
        encode(halves(64, 32), "PNG"),
        validate_operations([{"op": "convert", "format": fmt, "quality": 90}]),
        limits,
    )
    assert encoded.format == fmt
    assert open_bytes(encoded.data).format == fmt.upper()
    assert close(rgb_at(encoded.data, (5, 16)), R, 40)


def test_operations_apply_in_order(limits: Limits) -> None:
    a = run(
        halves(200, 100),
        [{"op": "crop", "x": 0, "y": 0, "width": 100, "height": 100}, {"op": "flip"}],
        limits,
    )
    b = run(
        halves(200, 100),
        [{"op": "flip"}, {"op": "crop", "x": 0, "y": 0, "width": 100, "height": 100}],
        limits,
    )
    assert px(a, 50, 50) == R and px(b, 50, 50) == B


def test_invalid_raw_operation_is_rejected_with_its_field(limits: Limits) -> None:
    with pytest.raises(InvalidRequest) as caught:
        run(halves(), [{"op": "blur", "sigma": 1}, {"op": "resize", "width": 0}], limits)
    assert caught.value.field == "operations[1].width"
