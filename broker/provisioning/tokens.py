"""Node agent tokens: one per contract, derived from a key only this component holds, so that no
token is ever stored (a restarted component, or another worker, derives the same one)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from broker.provisioning.keyfiles import create_once

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
            create_once(path, secrets.token_bytes(32))
        return cls(path.read_bytes())

    def token_for(self, contract_id: str) -> str:
        digest = hmac.new(self._key, contract_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
