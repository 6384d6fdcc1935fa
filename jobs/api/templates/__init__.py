"""Jinja2 templates and stylesheet of the ops dashboard (shipped as package data)."""
