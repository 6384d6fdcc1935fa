"""The ``darkroom`` command line."""
