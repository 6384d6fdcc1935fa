"""docs/operations-gallery.md shows every operation and is what `python -m bench.gallery` makes."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image as PILImage

from bench.gallery import DOCS, PAGE, build
from jobs.contract.operations import OPERATION_NAMES

COMMITTED = DOCS / PAGE
MAX_PICTURE_BYTES = 30 * 1024
ROW = re.compile(r"^\| `(?P<op>[a-z_]+)` \| .* \| !\[[^]]*\]\((?P<picture>[^)]+)\) \|$", re.M)


def test_the_committed_gallery_is_what_the_script_generates(tmp_path: Path) -> None:
    assert COMMITTED.read_text() == build(tmp_path), "regenerate with: python -m bench.gallery"
    for row in ROW.finditer(COMMITTED.read_text()):
        with PILImage.open(tmp_path / row["picture"]) as picture:
            assert picture.format == "JPEG", row["op"]


def test_every_operation_of_the_union_has_a_row_with_a_small_picture() -> None:
    rows = {row["op"]: row["picture"] for row in ROW.finditer(COMMITTED.read_text())}
    assert sorted(rows) == sorted(OPERATION_NAMES), "a new operation needs a row in bench/gallery.py"
    committed = {path.name for path in (DOCS / "gallery").iterdir()}
    for op, picture in rows.items():
        path = DOCS / picture
        assert path.name in committed, op
        assert 0 < path.stat().st_size <= MAX_PICTURE_BYTES, (op, path.stat().st_size)
