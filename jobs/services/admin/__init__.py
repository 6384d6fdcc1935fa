"""Operator views of a running Darkroom, read from Redis: queues, workers, images, dead letters.

Shared by ``darkroom status`` / ``requeue-dead`` / ``probe`` / ``reindex``, the API's
``/metrics`` and ``/dashboard``, and the worker pools' Prometheus exporter, so every
reader reports the same numbers.
"""
