"""Key files this component creates once and never rewrites (agent.key, secrets.key)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["create_once"]


def create_once(path: Path, content: bytes) -> None:
    """``path`` holding ``content`` (mode 0600), unless it exists already."""
    # Written whole under another name, then linked: a worker starting at the same moment
    # reads either nothing (and links its own, which loses) or the whole key.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
