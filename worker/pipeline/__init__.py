"""The async job pipelines: one module per job kind, plus shared steps."""
