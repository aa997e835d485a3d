"""The node agent as one object: its store, hooks, WSGI app and background jobs.

:class:`Agent` is what ``accords agent`` serves, and what in-process tests drive. It is an
OCCI server like every component (``occi.server.create_app``) for the categories of
:mod:`broker.agent.model`, over an SQLite store in ``DIR/agent.db``. Every caller with the
agent's token is the principal ``contract`` (account ``contract``, role ``service``): the
provisioning component acting for the node's contract.

Writes are serialised where order matters. A write request (POST, PUT, DELETE) on
``/metadata/``, ``/script/`` or ``/`` holds the agent's write lock from its first byte to its
commit, so metadata and scripts are applied one at a time, in arrival order, and a script
sees exactly the metadata stored before it (a metadata write waits for a running system
script). Writes on ``/probe/`` hold the probe lock, which every sample holds while it reads
and records its probe. Reads never wait.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import timezone
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from broker.agent import metadata
from broker.agent.model import METADATA, model
from broker.agent.probes import MeasurementSink, Probes
from broker.agent.processes import Children, Home, environment
from broker.agent.scripts import Scripts
from broker.roles import SERVICE, roles
from cords.records import unique_names
from occi.access import AccessPolicy, Rule
from occi.auth import StaticCredentials
from occi.hooks import Hooks
from occi.server import create_app
from occi.service.context import Principal
from occi.store import open_store

__all__ = ["Agent", "POLICY", "PRINCIPAL", "REAP_INTERVAL"]

log = logging.getLogger("accords.agent")

#: The components (the provisioning component, for the node's contract) read and write everything.
POLICY = AccessPolicy(default=Rule(read=roles(SERVICE), write=roles(SERVICE)))
#: Who a caller with the agent's token is.
PRINCIPAL = Principal(account="contract", name="contract", roles=roles(SERVICE))
REAP_INTERVAL = 0.5
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class Agent:
    """``Agent(directory, token=...)``: a WSGI app; :meth:`start` before serving, :meth:`stop` after.

    ``token=None`` serves every caller as an anonymous admin (in-process tests only).
    ``sink`` receives the probes' measurements (:class:`broker.agent.probes.MeasurementSink`).
    """

    def __init__(self, directory: str | Path, *, token: str | None, sink: MeasurementSink | None = None):
        self.home = Home(Path(directory).resolve()).prepare()
        self.store = open_store(self.home.db)
        self.writes = threading.RLock()
        self.probe_lock = threading.RLock()
        self.children = Children()
        self.scheduler = BackgroundScheduler(daemon=True, timezone=timezone.utc)
        self.scripts = Scripts(home=self.home, store=self.store, children=self.children)
        self.probes = Probes(home=self.home, store=self.store, scheduler=self.scheduler, lock=self.probe_lock,
                             environment=self.environment, children=self.children, sink=sink)
        hooks = Hooks()
        unique_names(hooks, (METADATA,))
        hooks.on_create(METADATA)(self._metadata_created)
        hooks.on_update(METADATA)(self._metadata_updated)
        hooks.on_delete(METADATA)(self._metadata_deleted)
        self.scripts.install(hooks)
        self.probes.install(hooks)
        authenticator = None
        if token is not None:
            authenticator = StaticCredentials()
            authenticator.add_token(token, PRINCIPAL)
        self.occi = create_app(model=model(), store=self.store, hooks=hooks, authenticator=authenticator,
                               policy=POLICY, component="agent")
        self._busy = 0
        self._idle = threading.Condition()
        self._started = False

    # -- metadata --------------------------------------------------------------------------------
    def _rewrite(self, values: dict[str, str]) -> None:
        with self.writes:
            metadata.write_file(self.home.metadata, values)

    def _metadata_created(self, entity, ctx) -> None:
        name = metadata.check_name(entity.attributes.get(metadata.NAME))
        entity.attributes["occi.metadata.state"] = 1
        value = entity.attributes.get(metadata.VALUE) or ""
        self._rewrite(metadata.variables(ctx.session, changed={name: value}))

    def _metadata_updated(self, old, new, ctx) -> None:
        name = new.attributes.get(metadata.NAME)
        self._rewrite(metadata.variables(ctx.session, changed={name: new.attributes.get(metadata.VALUE) or ""}))

    def _metadata_deleted(self, entity, ctx) -> None:
        self._rewrite(metadata.variables(ctx.session, removed=entity.attributes.get(metadata.NAME)))

    def environment(self) -> dict[str, str]:
        """What a command receives now: the clean environment and the stored metadata."""
        with self.store.session(readonly=True) as session:
            values = metadata.variables(session)
        return environment(home=self.home, variables=values)

    # -- WSGI ----------------------------------------------------------------------------------------
    def _lock_for(self, method: str, path: str):
        if method in _READS:
            return None
        if path.startswith("/probe/"):
            return self.probe_lock
        if path == "/" or path.startswith(("/metadata/", "/script/")):
            return self.writes
        return None

    @contextmanager
    def _request(self):
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def __call__(self, environ, start_response):
        lock = self._lock_for(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        with self._request():
            if lock is None:
                return self._drain(self.occi(environ, start_response))
            with lock:
                return self._drain(self.occi(environ, start_response))

    @staticmethod
    def _drain(body) -> list[bytes]:
        """The whole response, produced while the lock is held (Falcon's bodies are small)."""
        try:
            return list(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    # -- life ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Write metadata.env from the store, follow forks left running, resume probes, start the jobs."""
        with self.store.session(readonly=True) as session:
            metadata.write_file(self.home.metadata, metadata.variables(session))
        self.scripts.recover()
        self.scheduler.add_job(self.scripts.reap, "interval", seconds=REAP_INTERVAL, id="reap", max_instances=1,
                               coalesce=True)
        self.scheduler.start()
        self.probes.resume()
        self._started = True

    def stop(self, *, wait: float = 5.0) -> None:
        """Stop the jobs and every process the agent started (forks, running scripts, samples);
        wait up to ``wait`` seconds for the requests in flight; close the store."""
        if self._started:
            self.scheduler.shutdown(wait=False)
            self._started = False
        self.scripts.stop()
        deadline = time.monotonic() + wait
        with self._idle:
            while self._busy and time.monotonic() < deadline:
                self._idle.wait(timeout=0.05)
        self.store.close()
