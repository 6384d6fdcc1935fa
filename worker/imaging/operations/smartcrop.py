"""Content-aware crop placement ("smart" gravity): the window with the most detail and colour.

Saliency = edge magnitude + half the saturation, on a ≤ 160 px copy; every window position
is scored in O(1) from an integral image, with a slight pull towards the centre to break
ties on flat images.
"""

from __future__ import annotations

from typing import Final

from PIL import Image as PILImage
from PIL import ImageChops, ImageFilter

ANALYSIS_SIZE: Final = 160


def saliency_map(im: PILImage.Image) -> PILImage.Image:
    small = im.convert("RGB")
    scale = ANALYSIS_SIZE / max(small.size)
    if scale < 1:
        size = (max(1, round(small.width * scale)), max(1, round(small.height * scale)))
        small = small.resize(size, PILImage.Resampling.BOX)
    edges = small.convert("L").filter(ImageFilter.FIND_EDGES)
    saturation = small.convert("HSV").getchannel("S").point(lambda v: v // 2)
    return ImageChops.add(edges, saturation)


def _integral(sal: PILImage.Image) -> list[list[int]]:
    width, height = sal.size
    raw = sal.tobytes()
    table = [[0] * (width + 1)]
    for y in range(height):
        row = [0]
        running = 0
        above = table[y]
        for x in range(width):
            running += raw[y * width + x]
            row.append(above[x + 1] + running)
        table.append(row)
    return table


def best_window(im: PILImage.Image, win_w: int, win_h: int) -> tuple[int, int]:
    """Top-left corner of the most salient ``win_w`` x ``win_h`` window inside ``im``."""
    width, height = im.size
    win_w, win_h = min(win_w, width), min(win_h, height)
    if (win_w, win_h) == (width, height):
        return 0, 0
    sal = saliency_map(im)
    fx, fy = sal.width / width, sal.height / height
    ww, wh = max(1, round(win_w * fx)), max(1, round(win_h * fy))
    ww, wh = min(ww, sal.width), min(wh, sal.height)
    table = _integral(sal)
    cx, cy = (sal.width - ww) / 2, (sal.height - wh) / 2
    best: tuple[float, int, int] = (-1.0, 0, 0)
    for y in range(sal.height - wh + 1):
        top, bottom = table[y], table[y + wh]
        for x in range(sal.width - ww + 1):
            total = bottom[x + ww] - bottom[x] - top[x + ww] + top[x]
            score = total * (1.0 - 1e-3 * (abs(x - cx) + abs(y - cy)) / (sal.width + sal.height))
            if score > best[0]:
                best = (score, x, y)
    x = min(width - win_w, max(0, round(best[1] / fx)))
    y = min(height - win_h, max(0, round(best[2] / fy)))
    return x, y
