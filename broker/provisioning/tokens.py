"""Node agent tokens: one per contract, derived from a key only this component holds, so that no
token is ever stored (a restarted component, or another worker, derives the same one)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

__all__ = ["AgentTokens"]


class AgentTokens:
    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the agent token key must have at least 16 bytes")
        self._key = key

    @classmethod
    def from_settings(cls, data: Path | None) -> "AgentTokens":
        """$ACCORDS_AGENT_KEY, else DATA/agent.key (created once, mode 0600)."""
        given = os.environ.get("ACCORDS_AGENT_KEY")
        if given:
            return cls(given.encode())
        if data is None:
            return cls(secrets.token_bytes(32))
        path = data / "agent.key"
        if not path.exists():
            # Written whole under another name, then linked: a worker starting at the same
            # moment reads either nothing (and links its own, which loses) or the whole key.
            temporary = data / f"agent.key.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
            finally:
                temporary.unlink()
        return cls(path.read_bytes())

    def token_for(self, contract_id: str) -> str:
        digest = hmac.new(self._key, contract_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
