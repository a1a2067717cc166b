"""Password hashing with Argon2id (the OWASP-recommended KDF), via argon2-cffi."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_STRONG = PasswordHasher()  # argon2-cffi's RFC 9106 "low memory" profile: 64 MiB, t=3
_FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # tests only
_hasher = _STRONG

MIN_LENGTH = 8


def use_fast_hashing(fast: bool) -> None:
    """Tests trade strength for speed; production never calls this with True."""
    global _hasher
    _hasher = _FAST if fast else _STRONG


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash used weaker settings than today's (re-hash at login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
