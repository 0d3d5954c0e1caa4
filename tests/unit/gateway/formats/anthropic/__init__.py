"""Tests of the Anthropic Messages codec (gateway/formats/anthropic)."""
