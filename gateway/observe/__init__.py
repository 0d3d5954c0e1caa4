"""Observability: the request log, the service's events and the health transitions."""
