"""Darkroom's contract and producer side: settings, the Image model, job payloads,
operation specs, the Redis image store, storage backends, clients, HTTP API and CLI."""

__version__ = "0.1.0"
