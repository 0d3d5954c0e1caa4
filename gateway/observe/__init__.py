"""Observability: the request log (and later metrics and health)."""
