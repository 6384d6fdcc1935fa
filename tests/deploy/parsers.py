"""Parsers for every kind of file under deploy/ (no Docker engine here: files are read, not run)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.stack import ROOT

DEPLOY = ROOT / "deploy"


@dataclass
class Dockerfile:
    stages: list[list[tuple[str, str]]] = field(default_factory=list)  # per FROM: (INSTRUCTION, args)

    def all(self, name: str) -> list[str]:
        return [args for stage in self.stages for ins, args in stage if ins == name]

    def final(self, name: str) -> list[str]:
        return [args for ins, args in self.stages[-1] if ins == name]

    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for args in self.all("ENV"):
            for token in shlex.split(args):
                key, _, value = token.partition("=")
                out[key] = value
        return out


def parse_dockerfile(text: str) -> Dockerfile:
    joined = re.sub(r"\\\n", " ", text)
    result = Dockerfile()
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            result.stages.append([])
        elif not result.stages:
            assert instruction == "ARG", f"{instruction} before the first FROM"
            continue
        result.stages[-1].append((instruction, args.strip()))
    return result


def exec_form(args: str) -> list[str]:
    """``["a", "b"]`` (JSON exec form) of CMD/ENTRYPOINT/HEALTHCHECK CMD."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit: ``{section: [(key, value), ...]}`` (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections[current] = []
            continue
        assert current is not None and "=" in line, f"bad unit line {line!r}"
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def parse_env_file(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines with shell-like quoting, as systemd's EnvironmentFile reads them."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"bad env line {line!r}"
        out[key] = " ".join(shlex.split(value))
    return out


def parse(path: Path) -> Any:
    text = path.read_text()
    name = path.name
    if name.endswith((".yml", ".yaml")):
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    if name.endswith(".json"):
        return json.loads(text)
    if name == "Dockerfile":
        return parse_dockerfile(text)
    if name.endswith(".dockerignore"):
        return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if name.endswith(".service"):
        return parse_unit(text)
    if name.endswith((".env", ".env.example")):
        return parse_env_file(text)
    raise AssertionError(f"no parser for {path.relative_to(ROOT)}: add one to tests/deploy/parsers.py")


def deploy_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.is_file())


def k8s_docs() -> list[dict[str, Any]]:
    return [doc for path in sorted((DEPLOY / "k8s").glob("*.yaml")) for doc in parse(path)]


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    return found
