"""Password hashing with argon2id (argon2-cffi), and the secrets the security component mints.

The parameters are RFC 9106's second recommendation (64 MiB, 3 passes, 4 lanes): about
0.1 s per hash on one core here. ``ACCORDS_ARGON2_PROFILE=test`` selects a cheap profile
for test suites only (the parameters travel in each hash, so verifying still works if the
profile changes; a login re-hashes a password whose parameters are out of date).
"""
from __future__ import annotations

import hashlib
import os
import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Passwords", "default_passwords", "new_password", "new_token", "token_digest", "TOKEN_PREFIX"]

#: Tokens start with it, so that secret scanners and people recognise them.
TOKEN_PREFIX = "acc_"

_PROFILES = {
    "default": dict(time_cost=3, memory_cost=64 * 1024, parallelism=4),
    "test": dict(time_cost=1, memory_cost=1024, parallelism=1),
}


class Passwords:
    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int):
        self._hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        # Verified against when the user does not exist, so that an unknown name costs as much
        # time as a wrong password and response times do not tell which names exist.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._decoy, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


_default: Passwords | None = None


def default_passwords() -> Passwords:
    """The process-wide hasher, with the profile named by $ACCORDS_ARGON2_PROFILE (default: default)."""
    global _default
    if _default is None:
        profile = os.environ.get("ACCORDS_ARGON2_PROFILE", "default")
        if profile not in _PROFILES:
            raise ValueError(f"ACCORDS_ARGON2_PROFILE={profile!r}: use one of {', '.join(_PROFILES)}")
        _default = Passwords(**_PROFILES[profile])
    return _default


def new_password() -> str:
    """A generated password (for first admins and service users): 160 bits, URL-safe."""
    while True:
        password = secrets.token_urlsafe(20)
        if not password.startswith(TOKEN_PREFIX):     # that would be taken for a token
            return password


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256 (a token is random, so no salt or slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
