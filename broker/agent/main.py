"""``accords agent --dir DIR``: the node agent as one process.

The command line and the ready file are a contract with the provider drivers (the local one
starts the agent as a process and waits for the ready file; clouds start it from user data):

    accords agent --dir DIR [--host 127.0.0.1] [--port 8286] [--token-file FILE]
                  [--ready-file FILE] [--json]

* ``--port 0`` picks a free port. The server is one process: a threaded WSGI server
  (wsgiref), bound to 127.0.0.1 unless ``--host`` says otherwise.
* The token is the content of ``--token-file`` (surrounding whitespace ignored), else of
  ``DIR/token``, created with a random token on first start. The file must be readable by
  its owner only (mode 0600 or stricter): otherwise the agent refuses to start (exit 2).
* Once the server listens, ``--ready-file`` is written atomically with
  ``{"url": "http://HOST:PORT", "pid": PID}``; it is removed at a clean stop.
* The start-up line on stdout (``--json``: ``{"agent", "url", "pid", "dir"}``). SIGTERM or
  SIGINT stops the agent cleanly: no new requests, every process it started stopped (TERM,
  then KILL), its store closed; exit 0.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import socketserver
import stat
import sys
import tempfile
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from occi import logs

__all__ = ["run", "read_token", "write_ready", "AgentError", "DEFAULT_PORT"]

log = logging.getLogger("accords.agent")
DEFAULT_PORT = 8286


class AgentError(Exception):
    """The agent cannot start; the message says why."""


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 64


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(WSGIRequestHandler):
    timeout = 60          # a silent client does not keep a thread forever

    def log_message(self, *args) -> None:       # no request lines with paths or queries on stderr
        pass


def read_token(token_file: str | None, home: Path) -> str:
    """The agent's token: ``token_file``'s content, else DIR/token's (created when missing)."""
    path = Path(token_file) if token_file else home / "token"
    if token_file is None and not path.exists():
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
    try:
        info = path.stat()
    except OSError as exc:
        raise AgentError(f"cannot read the token file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise AgentError(f"the token file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise AgentError(f"the token file {path} is readable or writable by others (mode "
                         f"{stat.S_IMODE(info.st_mode):04o}); make it readable by its owner only: chmod 600 {path}")
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentError(f"cannot read the token file {path}: {exc}") from None
    if not token or any(c.isspace() for c in token):
        raise AgentError(f"the token file {path} holds no token (one word, without spaces)")
    return token


def write_ready(path: Path, info: dict) -> None:
    """Write ``info`` as JSON to ``path`` atomically (a reader never sees a partial file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".ready-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(info, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run(args) -> int:
    """The ``agent`` sub-command; returns the exit status."""
    home = Path(args.dir).expanduser().resolve()
    logs.configure(log_format="text", component="agent")
    log.setLevel(logging.INFO)          # what the agent ran (never commands, values or tokens)
    try:
        token = read_token(args.token_file, home)
    except AgentError as exc:
        print(f"accords agent: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"accords agent: cannot prepare {home}: {exc}", file=sys.stderr)
        return 1
    from sqlalchemy.exc import SQLAlchemyError

    from broker.agent.agent import Agent

    try:
        agent = Agent(home, token=token)
    except (OSError, SQLAlchemyError) as exc:
        print(f"accords agent: cannot open the agent's directory {home}: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 1
    try:
        server = make_server(args.host, args.port, agent, server_class=_Server6 if ":" in args.host else _Server,
                             handler_class=_Handler)
    except OSError as exc:
        agent.stop()
        print(f"accords agent: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    url = _url(args.host, server.server_port)
    ready = Path(args.ready_file).expanduser().resolve() if args.ready_file else None
    stopping = threading.Event()

    def stop(signum, frame) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, name="agent-stop", daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        agent.start()
        info = {"url": url, "pid": os.getpid()}
        if ready is not None:
            write_ready(ready, info)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("serving plain HTTP on %s: keep the port closed to anything but the platform", args.host)
        if args.json:
            print(json.dumps({"agent": "accords", **info, "dir": str(home)}), flush=True)
        else:
            print(f"accords agent: {url}  (pid {os.getpid()}, dir {home})", flush=True)
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        agent.stop()
        if ready is not None:
            ready.unlink(missing_ok=True)
        log.info("agent stopped")
    return 0
