"""The gallery's test photo: a landscape drawn with Pillow from a fixed seed.

Drawn rather than downloaded or committed, so the gallery needs nothing from the network
and rebuilds the same picture anywhere: a sky gradient, a sun, layered hills with texture, a
lake, a red-roofed house and a tree — colours, edges and flat areas for every operation to
show its effect on. Saved as PNG, so what the operations start from is exactly the drawing.
"""

from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 288, 192


def _sky(width: int, height: int) -> Image.Image:
    sky = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(sky)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(70 + 150 * t), int(130 + 90 * t), int(220 - 40 * t)))
    return sky


def _hill(width: int, base: int, amplitude: int, rng: random.Random) -> list[tuple[int, int]]:
    phase, waves = rng.uniform(0, math.tau), rng.uniform(1.5, 3.0)
    ridge = [
        (x, int(base - amplitude * (0.5 + 0.5 * math.sin(phase + waves * math.tau * x / width))))
        for x in range(0, width + 8, 8)
    ]
    return [*ridge, (width, 10_000), (0, 10_000)]


def landscape() -> Image.Image:
    """The scene as an RGB image of WIDTH x HEIGHT."""
    rng = random.Random(18)
    inner_w, inner_h = WIDTH, HEIGHT
    scene = _sky(inner_w, inner_h)
    draw = ImageDraw.Draw(scene)
    draw.ellipse((200, 18, 236, 54), fill=(255, 214, 90))
    for base, amplitude, colour in (
        (110, 40, (92, 120, 160)),
        (130, 30, (60, 130, 70)),
        (150, 20, (40, 100, 45)),
    ):
        draw.polygon(_hill(inner_w, base, amplitude, rng), fill=colour)
    draw.rectangle((0, 140, inner_w, inner_h), fill=(40, 90, 150))  # the lake
    for _ in range(300):  # grass and ripples: texture for blur, sharpen and smart crops
        x, y = rng.randrange(inner_w), rng.randrange(100, inner_h)
        shade = rng.randrange(-30, 30)
        water = y >= 140
        base_colour = (40, 90, 150) if water else (60, 130, 70)
        colour = tuple(max(0, min(255, c + shade)) for c in base_colour)
        draw.line([(x, y), (x + (6 if water else 1), y - (0 if water else 3))], fill=colour)
    draw.rectangle((60, 104, 100, 136), fill=(235, 225, 200))  # the house
    draw.polygon([(54, 106), (80, 86), (106, 106)], fill=(190, 40, 40))
    draw.rectangle((76, 118, 86, 136), fill=(90, 60, 40))
    draw.rectangle((164, 96, 170, 134), fill=(90, 60, 40))  # the tree
    draw.ellipse((148, 70, 186, 108), fill=(30, 110, 40))
    return scene.filter(ImageFilter.GaussianBlur(0.6))


def landscape_png() -> bytes:
    buf = io.BytesIO()
    landscape().save(buf, "PNG")
    return buf.getvalue()
