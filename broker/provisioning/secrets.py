"""Provider credentials encrypted at rest: Fernet (AES-128-CBC with HMAC-SHA256) under a key
only the provisioning component holds.

The key is ``$ACCORDS_SECRETS_KEY`` (workers on several hosts must share it), else
``DATA/secrets.key``, created on first use with mode 0600. ``$ACCORDS_SECRETS_KEY`` may list
several keys separated by commas (and secrets.key several lines): the first encrypts, every one
decrypts, so that a key can be replaced without losing what the old one sealed.

What the store keeps of a provider's credentials is :data:`SEALED_KEY` -> a Fernet token: the
JSON of the credentials never reaches the database, a log or a rendering.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from broker.provisioning.keyfiles import create_once

__all__ = ["SecretBox", "SecretsError", "SecretsKeyError", "SEALED_KEY", "ENV_KEY", "KEY_FILE", "is_sealed"]

ENV_KEY = "ACCORDS_SECRETS_KEY"
KEY_FILE = "secrets.key"
#: The one key of a sealed value: ``{"fernet": "gAAAA..."}``.
SEALED_KEY = "fernet"


class SecretsError(ValueError):
    """Credentials that cannot be sealed or opened (the message never holds a secret)."""


class SecretsKeyError(SecretsError):
    """The key is missing, malformed, or not the one the credentials were sealed with."""


def is_sealed(value) -> bool:
    return isinstance(value, dict) and set(value) == {SEALED_KEY} and isinstance(value[SEALED_KEY], str)


class SecretBox:
    """Seals and opens credential mappings; ``origin`` says where the key came from (for messages)."""

    def __init__(self, keys: list[bytes], *, origin: str):
        if not keys:
            raise SecretsKeyError(f"no secrets key in {origin}")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError:
            raise SecretsKeyError(f"the secrets key in {origin} is not a Fernet key (32 url-safe base64-encoded "
                                  "bytes; make one with `python -c 'from cryptography.fernet import Fernet; "
                                  "print(Fernet.generate_key().decode())'`)") from None
        self.origin = origin

    def __repr__(self) -> str:                 # never the key
        return f"SecretBox(origin={self.origin!r})"

    @classmethod
    def from_settings(cls, data: Path | None) -> "SecretBox":
        """$ACCORDS_SECRETS_KEY, else DATA/secrets.key (created once, mode 0600); without a data
        directory, a key of this process only (tests)."""
        given = os.environ.get(ENV_KEY)
        if given:
            return cls([part.strip().encode() for part in given.split(",") if part.strip()], origin=f"${ENV_KEY}")
        if data is None:
            return cls([Fernet.generate_key()], origin="this process (no data directory)")
        path = Path(data) / KEY_FILE
        if not path.exists():
            create_once(path, Fernet.generate_key() + b"\n")
        if path.stat().st_mode & 0o077:
            raise SecretsKeyError(f"{path} is readable by others; chmod 600 {path}")
        return cls([line.strip().encode() for line in path.read_text().splitlines() if line.strip()],
                   origin=str(path))

    def seal(self, credentials: dict) -> dict:
        """``{"fernet": token}`` for a mapping of credential names to values."""
        if not isinstance(credentials, dict):
            raise SecretsError("credentials must be an object of names to values")
        return {SEALED_KEY: self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()}

    def open(self, sealed: dict) -> dict:
        """The credentials a :meth:`seal` result holds."""
        if not is_sealed(sealed):
            raise SecretsError("the stored credentials are not sealed (expected {\"fernet\": token})")
        try:
            return json.loads(self._fernet.decrypt(sealed[SEALED_KEY].encode()))
        except InvalidToken:
            raise SecretsKeyError(f"the credentials cannot be decrypted with the key in {self.origin}: they were "
                                  f"sealed under another key (was {KEY_FILE} or ${ENV_KEY} changed?); set the "
                                  "credentials again") from None
