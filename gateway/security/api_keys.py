"""Client API keys: generation, hashing and the in-memory lookup used on every request.

Keys are 128-bit random values, so a plain SHA-256 is the right hash at rest: there is no
low-entropy password to stretch, and the lookup stays a dict access on the hot path.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

KEY_PREFIX = "sk-sb-"
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9._~+/=-]{8,256}$")


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_hex(16)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    """The part of a key safe to show in lists: enough to recognise it, useless to attack."""
    return key[: len(KEY_PREFIX) + 4] + "…"


def validate_key_format(key: str) -> str | None:
    """None when ``key`` is acceptable as an imported key, else what is wrong."""
    if not _KEY_PATTERN.match(key):
        return "must be 8 to 256 characters of letters, digits or -._~+/="
    return None


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
