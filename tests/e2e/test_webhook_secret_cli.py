"""``darkroom webhook-secret [--rotate]`` against the real stack: shown on rotation, never by the state."""

from __future__ import annotations

import json

import pytest

from jobs.services.webhook_secrets import derive
from tests.e2e.test_cli import darkroom
from tests.support.e2e import Stack

pytestmark = pytest.mark.e2e


def test_rotate_prints_the_new_secret_and_the_state_never_does(stack: Stack) -> None:
    state = darkroom(stack, "webhook-secret")
    assert state.returncode == 0, state.stderr
    assert json.loads(state.stdout) == {
        "signing": "account", "generation": 0, "rotated_at": None, "previous_valid_until": None,
    }  # fmt: skip

    rotated = darkroom(stack, "webhook-secret", "--rotate")
    assert rotated.returncode == 0, rotated.stderr
    body = json.loads(rotated.stdout)
    master = stack.settings.webhook_secret.get_secret_value()
    assert body["secret"] == derive(master, "acme", 1) and body["generation"] == 1
    assert "shown once" in rotated.stderr and body["previous_valid_until"] in rotated.stderr

    after = darkroom(stack, "webhook-secret")
    assert json.loads(after.stdout)["generation"] == 1 and body["secret"] not in after.stdout
    theirs = json.loads(darkroom(stack, "webhook-secret", "--rotate", key="k2").stdout)
    assert theirs["secret"] == derive(master, "globex", 1) != body["secret"]
