"""The routes call the producer, never Redis: a scan of every route module's source.

The rest of the API keeps Redis commands out too: idempotency slots are kept by
:mod:`jobs.plumbing.store.idempotency` (through the producer), rate-limit buckets by
:mod:`jobs.plumbing.store.token_buckets`. Only the HTTP edge's rate limiting hands the producer's
Redis client to those buckets (it runs before any route, from the headers alone).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import jobs.api.routes

ROUTES = sorted(Path(jobs.api.routes.__file__).parent.glob("*.py"))
API_MODULES = sorted(Path(jobs.api.routes.__file__).parent.parent.glob("*.py"))
EDGE = frozenset({"auth.py", "ratelimit.py"})  # hand ctx.redis to jobs.plumbing.store.token_buckets
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
FORBIDDEN_MODULES = ("redis", "jobs.plumbing.store.errors", "jobs.plumbing.store.image_store")


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


@pytest.mark.parametrize("path", API_MODULES, ids=lambda p: p.name)
def test_no_api_module_sends_redis_commands(path: Path) -> None:
    found = violations(path.read_text())
    if path.name in EDGE:
        found = [v for v in found if not v.endswith(": .redis") and "imports redis" not in v]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "import redis",
        "from redis.asyncio import Redis",
        "from jobs.plumbing.store.errors import redis_errors",
        "async def f(ctx):\n    await ctx.redis.get('k')",
        "async def f(ctx):\n    await ctx.store.get('a', 'b')",
        "async def f(r):\n    await r.lrange('k', 0, -1)",
    ],
)
def test_the_scan_sees_redis_use(source: str) -> None:
    assert violations(source) != []
