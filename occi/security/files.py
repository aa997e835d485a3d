"""Credential files: JSON (user, password) readable by their owner only.

Kept apart from the security component so that the CLI and ``accords serve`` read them
without importing the store.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["credentials_dir", "write_credentials", "read_credentials"]


def credentials_dir(data: Path) -> Path:
    path = Path(data) / "credentials"
    path.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_credentials(path: Path, content: dict) -> None:
    """Write a credentials file readable by its owner only (created 0600, replaced atomically)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=2)
        handle.write("\n")
    os.replace(temporary, path)


def read_credentials(path: Path) -> dict:
    path = Path(path)
    mode = path.stat().st_mode & 0o077
    if mode:
        raise PermissionError(f"{path} is readable by others (mode {oct(path.stat().st_mode & 0o777)}); "
                              f"chmod 600 {path}")
    content = json.loads(path.read_text())
    if not isinstance(content, dict) or not isinstance(content.get("user"), str) or \
            not isinstance(content.get("password"), str):
        raise ValueError(f"{path} does not hold {{\"user\": ..., \"password\": ...}}")
    return content
