"""Altered tokens for the "a tampered link is refused" tests.

Changing the last characters of a signed token is not enough: a token may already end in
the characters written over it (one in 4096 for two letters), and the last base64 character
of a signature carries padding bits that decoding ignores. This changes a character in the
middle of the signature, always to a different one, so the result never verifies.
"""
from __future__ import annotations


def tampered(token: str) -> str:
    """The token with one character of its signature (after the last dot) replaced."""
    head, dot, signature = token.rpartition(".")
    assert dot and len(signature) >= 8, f"not a signed token: {token!r}"
    middle = len(signature) // 2
    swapped = "B" if signature[middle] == "A" else "A"
    return f"{head}.{signature[:middle]}{swapped}{signature[middle + 1:]}"
