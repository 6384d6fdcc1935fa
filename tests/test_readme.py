"""The README opens with the two commands and documents every setting."""

from __future__ import annotations

import re
from pathlib import Path

from jobs.contract.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_every_setting_is_documented() -> None:
    table = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z0-9_]+)`", table))
    missing = {name.upper() for name in Settings.model_fields} - documented
    assert not missing, f"settings missing from the README table: {sorted(missing)}"


def test_the_design_lives_in_the_repository() -> None:
    root = Path(__file__).resolve().parents[1]
    assert (root / "docs" / "design.md").is_file() and "docs/design.md" in README
    name = "DESIGN"  # apart, so that this file does not cite it
    outside = re.compile(rf"{name} §|shared/{name}")
    citing = [
        str(path.relative_to(root))
        for top in ("jobs", "worker", "tests", "docs", "bench", "deploy")
        for path in (root / top).rglob("*")
        if path.suffix in {".py", ".md", ".yaml", ".yml", ".toml"} and outside.search(path.read_text())
    ]
    assert citing == [], f"cite docs/design.md, not a document outside the repository: {citing}"
