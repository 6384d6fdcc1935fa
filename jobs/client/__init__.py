"""Python clients for the Darkroom HTTP API: :class:`Client` (sync) and :class:`AsyncClient`."""

from jobs.client.async_client import AsyncClient
from jobs.client.protocol import ImagePage
from jobs.client.sync_client import Client

__all__ = ["AsyncClient", "Client", "ImagePage"]
