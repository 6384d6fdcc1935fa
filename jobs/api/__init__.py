"""The HTTP gateway (FastAPI). ``create_app(settings)`` is the only entry point."""

from jobs.api.app import create_app

__all__ = ["create_app"]
