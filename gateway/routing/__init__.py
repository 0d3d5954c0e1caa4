"""Routing: which upstream serves a request (model resolution, combos, fallback order)."""
