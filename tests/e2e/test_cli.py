"""The ``darkroom`` CLI against the real stack: progress + summary, exit codes, every command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image as PILImage

from tests.support.e2e import Stack
from tests.support.images import oriented_jpeg
from tests.support.stack import ROOT, process_env

pytestmark = pytest.mark.e2e


def darkroom(stack: Stack, *args: str, cwd: Path = ROOT, key: str = "k1") -> subprocess.CompletedProcess[str]:
    env = process_env(stack.settings, DARKROOM_API_URL=stack.base_url, DARKROOM_API_KEY=key)
    return subprocess.run(
        [sys.executable, "-m", "jobs.cli.main", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_upload_many_with_wait_prints_a_summary_and_fails_with_1(stack: Stack, tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(oriented_jpeg(200, 100, 1))
    (tmp_path / "b.jpg").write_bytes(oriented_jpeg(100, 200, 1))
    (tmp_path / "c.jpg").write_bytes(b"definitely not an image")
    files = sorted(str(p) for p in tmp_path.glob("*.jpg"))
    result = darkroom(stack, "upload", *files, "--wait")
    assert result.returncode == 1, result.stderr  # one image failed
    images = json.loads(result.stdout)
    assert sorted(i["status"] for i in images) == ["failed", "ready", "ready"]
    assert "upload summary" in result.stderr and "media_failed" in result.stderr

    good = next(i for i in images if i["status"] == "ready" and i["width"] == 200)
    out = tmp_path / "out.jpg"
    assert darkroom(stack, "download", good["id"], "--size", "small", "-o", str(out)).returncode == 0
    assert PILImage.open(out).size == (200, 100)

    transformed = darkroom(stack, "transform", good["id"], "--op", '{"op":"resize","width":50}', "--wait")
    assert transformed.returncode == 0, transformed.stderr
    assert json.loads(transformed.stdout)["width"] == 50

    listed = json.loads(darkroom(stack, "list", "--status", "failed").stdout)
    assert [i["filename"] for i in listed["data"]] == ["c.jpg"]
    published = json.loads(darkroom(stack, "publish", good["id"]).stdout)
    assert published["public"] is True and published["url"]
    signed = darkroom(stack, "sign", good["id"], "--op", '{"op":"grayscale"}', "--format", "png")
    assert signed.returncode == 0 and "/render/" in signed.stdout
    assert darkroom(stack, "delete", good["id"]).returncode == 0
    assert darkroom(stack, "get", good["id"]).returncode == 2  # gone: 404 is a usage error


def test_usage_errors_exit_2(stack: Stack, tmp_path: Path) -> None:
    missing = darkroom(stack, "upload", str(tmp_path / "nope.jpg"))
    assert missing.returncode == 2 and "No such file" in missing.stderr
    bad_op = darkroom(stack, "transform", "image_" + "a" * 24, "--op", "{not json")
    assert bad_op.returncode == 2 and "--op" in bad_op.stderr
    assert darkroom(stack, "get", "image_" + "a" * 24).returncode == 2
    assert darkroom(stack, "frobnicate").returncode == 2


def test_purge_status_reports_the_workers_outcome_and_exits_by_state(stack: Stack) -> None:
    image = stack.client.wait(stack.client.upload(oriented_jpeg(64, 48, 1)).id, timeout=60)
    purged = darkroom(stack, "purge", "image", "--image", image.id)
    assert purged.returncode == 0, purged.stderr
    purge_id = json.loads(purged.stdout)["purge_id"]

    done = darkroom(stack, "purge-status", purge_id, "--wait", "30")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert (status["purge_id"], status["state"], status["scope"]) == (purge_id, "done", "image")
    assert status == stack.client.purge_status(purge_id)  # the API's answer, printed as is

    foreign = darkroom(stack, "purge-status", purge_id, key="k2")
    assert foreign.returncode == 2 and "not_found" in foreign.stderr, foreign.stderr
    stack.worker.stop()  # from now on nothing runs purges: a new one stays queued
    queued_id = json.loads(darkroom(stack, "purge", "all").stdout)["purge_id"]
    late = darkroom(stack, "purge-status", queued_id, "--wait", "0.5")
    assert late.returncode == 1 and "still queued" in late.stderr, late.stderr
    assert json.loads(late.stdout) == {"purge_id": queued_id, "state": "queued", "scope": "all"}
    peek = darkroom(stack, "purge-status", queued_id)  # without --wait: report, not judge
    assert peek.returncode == 0 and json.loads(peek.stdout)["state"] == "queued", peek.stderr
