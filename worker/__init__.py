"""Darkroom's execution side: broker wiring, thin actors, the async pipeline and the
pure imaging core (``worker.imaging``)."""
