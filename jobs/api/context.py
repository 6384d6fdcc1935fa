"""The API's ``ctx``: a :class:`jobs.services.producer.Producer` opened in the app's lifespan."""

from __future__ import annotations

from fastapi import Request

from jobs.services.producer import Producer

ApiContext = Producer


def get_ctx(request: Request) -> Producer:
    ctx: Producer = request.app.state.ctx
    return ctx
