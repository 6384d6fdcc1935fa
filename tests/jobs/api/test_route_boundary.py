"""The routes call the producer, never Redis: a scan of every route module's source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import jobs.api.routes

ROUTES = sorted(Path(jobs.api.routes.__file__).parent.glob("*.py"))
# the producer's Redis-backed parts: a route that reaches for them reads Redis itself
FORBIDDEN_ATTRIBUTES = frozenset({"redis", "store", "hub", "idempotency_key"})
# redis-py command methods (``ping`` is also the producer's own readiness check)
REDIS_COMMANDS = frozenset(
    {
        "hget", "hgetall", "hmget", "hset", "hdel", "lrange", "lpush", "ltrim", "zrange", "zadd",
        "zrangebyscore", "xadd", "xrange", "xread", "expire", "pexpire", "pipeline", "eval", "evalsha",
        "register_script", "exists", "scan_iter", "mget", "incr", "setnx",
    }
)  # fmt: skip
FORBIDDEN_MODULES = ("redis", "jobs.store.errors", "jobs.store.image_store")


def violations(source: str) -> list[str]:
    """What in ``source`` touches Redis: imports of it, Redis attributes, Redis commands."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules = [node.module]
        for module in modules:
            if any(module == m or module.startswith(m + ".") for m in FORBIDDEN_MODULES):
                found.append(f"line {getattr(node, 'lineno', 0)}: imports {module}")
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES | REDIS_COMMANDS:
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_there_are_route_modules_to_scan() -> None:
    assert len(ROUTES) >= 8
    assert any(path.name == "images.py" for path in ROUTES)


@pytest.mark.parametrize("path", ROUTES, ids=lambda p: p.name)
def test_no_route_module_touches_redis(path: Path) -> None:
    assert violations(path.read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        "import redis",
        "from redis.asyncio import Redis",
        "from jobs.store.errors import redis_errors",
        "async def f(ctx):\n    await ctx.redis.get('k')",
        "async def f(ctx):\n    await ctx.store.get('a', 'b')",
        "async def f(r):\n    await r.lrange('k', 0, -1)",
    ],
)
def test_the_scan_sees_redis_use(source: str) -> None:
    assert violations(source) != []
