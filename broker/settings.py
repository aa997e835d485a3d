"""Where accords keeps its data and the local credentials the CLI and servers share."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from occi.auth import new_token

__all__ = ["data_dir", "token_file", "local_token", "database_url", "write_platform", "read_platform",
           "platform_file"]


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """--data, else $ACCORDS_DATA, else ~/.local/share/accords (created with mode 0700)."""
    path = Path(explicit or os.environ.get("ACCORDS_DATA") or Path.home() / ".local/share/accords").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, stat.S_IRWXU)
    return path


def token_file(data: Path) -> Path:
    return data / "token"


def local_token(data: Path) -> str:
    """The token local servers accept and the local CLI sends: $ACCORDS_TOKEN, else a 0600 file."""
    from_env = os.environ.get("ACCORDS_TOKEN")
    if from_env:
        return from_env
    path = token_file(data)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_token() + "\n")
    return path.read_text().strip()


def database_url(data: Path, component: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    return f"sqlite:///{data / (component + '.db')}"


def platform_file(data: Path) -> Path:
    return data / "platform.json"


def write_platform(data: Path, *, publisher: str, security: str) -> None:
    """Where the platform of this data directory runs, for the CLI (``accords up`` writes it)."""
    path = platform_file(data)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"publisher": publisher, "security": security}, indent=2) + "\n")
    os.replace(temporary, path)


def read_platform(data: Path) -> dict:
    path = platform_file(data)
    try:
        content = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return content if isinstance(content, dict) else {}
