"""Scripts: what creating a ``script`` entity does, and how forks are followed.

Creating a script runs it, inside the request (the entity is stored with its result):

* ``system`` (alias ``command``): ``/bin/sh -c SYNTAX`` in ``DIR/work``, to its end or its
  ``timeout`` (its process group is then stopped: ``timed-out``). Exit 0 is ``done``, any
  other status ``failed``: the request still succeeds (201), the script ran.
* ``fork`` (alias ``process``): started in a session of its own, ``running`` with its pid;
  the agent notices its end (every half second) and records ``done``/``failed``.
* ``kill``: stops the forks this agent started whose script name, whole command or program
  (the command's first word, as ``killall`` matches) is SYNTAX: TERM to their process group,
  KILL after a grace period. Nothing else on the machine is ever signalled. Matching nothing
  is ``failed`` with exit 1 (``killall`` does the same).
* ``configure``: SYNTAX is ``name=value``; it stores the metadata ``name`` (created, or its
  value replaced), exactly as ``PUT /metadata/...`` would, and is ``done``.

Scripts run one at a time, in the order they arrive: the caller holds the agent's write lock
(:class:`broker.agent.agent.Agent` takes it for the whole request, up to the commit).
Deleting a running fork's script stops the fork.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import replace
from typing import Any

from broker.agent import metadata
from broker.agent.model import ALIASES, DEFAULT_TIMEOUT, METADATA, SCRIPT
from broker.agent.processes import (Child, Children, Home, environment, group_alive, now, owned_group, run, spawn,
                                    start_time, stop_group, tail)
from occi.errors import BadRequest
from occi.store.base import EntityRecord, Query, StaleWrite

__all__ = ["Scripts"]

log = logging.getLogger("accords.agent")
S = "occi.script."


def _status(code: int) -> str:
    return f"exit {code}" if code >= 0 else f"killed by signal {-code}"


class Scripts:
    def __init__(self, *, home: Home, store, children: Children):
        self.home = home
        self.store = store
        self.children = children

    def install(self, hooks) -> None:
        hooks.on_create(SCRIPT)(self.create)
        hooks.on_delete(SCRIPT)(self.delete)

    # -- hooks ------------------------------------------------------------------------------
    def create(self, entity, ctx) -> None:
        a = entity.attributes
        nature = a.get(S + "nature") or "system"
        nature = a[S + "nature"] = ALIASES.get(nature, nature)
        syntax = a.get(S + "syntax") or ""
        if not syntax.strip():
            raise BadRequest(f"a {nature} script needs a non-empty occi.script.syntax", code="empty-script",
                             where=S + "syntax")
        a[S + "timestamp"] = int(time.time())
        if nature == "configure":
            self._configure(entity, ctx)
        else:
            values = metadata.variables(ctx.session)
            metadata.write_file(self.home.metadata, values)       # heals a file a failed request left
            env = environment(home=self.home, variables=values, script=entity.location)
            {"system": self._system, "fork": self._fork, "kill": self._kill}[nature](entity, ctx, env)
        log.info("script %s (%s): %s", entity.location, nature, a.get(S + "result"))

    def delete(self, entity, ctx) -> None:
        child = self.children.remove(entity.location)
        if child is not None and child.alive():
            stop_group(child.pid, process=child.process)
        self.home.pid_file(entity.location).unlink(missing_ok=True)
        self.home.log_of(entity.location).unlink(missing_ok=True)

    # -- natures ----------------------------------------------------------------------------
    def _system(self, entity, ctx, env) -> None:
        a = entity.attributes
        timeout = a.get(S + "timeout") or DEFAULT_TIMEOUT
        path = self.home.log_of(entity.location)
        a[S + "log"] = str(path)
        try:
            done = run(a[S + "syntax"], cwd=self.home.work, env=env, log=path, timeout=timeout,
                       location=entity.location, children=self.children)
        except OSError as exc:
            a.update({S + "state": "failed", S + "result": f"could not start /bin/sh: {exc.strerror}",
                      S + "finished": now()})
            return
        lines, truncated = tail(path)
        a.update({S + "started": done.started, S + "finished": done.finished, S + "exit": done.exit,
                  S + "output": lines, S + "truncated": truncated})
        if done.timed_out:
            a.update({S + "state": "timed-out", S + "result": f"timed out after {timeout} s"})
        else:
            a.update({S + "state": "done" if done.exit == 0 else "failed", S + "result": _status(done.exit)})

    def _fork(self, entity, ctx, env) -> None:
        a = entity.attributes
        path = self.home.log_of(entity.location)
        a.update({S + "log": str(path), S + "started": now()})
        try:
            process = spawn(a[S + "syntax"], cwd=self.home.work, env=env, log=path)
        except OSError as exc:
            a.update({S + "state": "failed", S + "result": f"could not start /bin/sh: {exc.strerror}",
                      S + "finished": now()})
            return
        ticks = start_time(process.pid)
        self.children.add(Child(location=entity.location, pid=process.pid, name=a.get(S + "name") or "",
                                command=a[S + "syntax"], process=process, started_ticks=ticks))
        self.home.pid_file(entity.location).write_text(f"{process.pid} {ticks}\n")
        a.update({S + "pid": process.pid, S + "state": "running", S + "result": f"pid {process.pid}"})

    def _kill(self, entity, ctx, env) -> None:
        a = entity.attributes
        argument = a[S + "syntax"].strip()
        a[S + "started"] = now()
        with self.children.lock:
            targets = [child for child in self.children.forks() if child.matches(argument) and child.alive()]
            for child in targets:
                self.children.remove(child.location)
        for child in targets:
            stop_group(child.pid, process=child.process)
            self._record_end(ctx.session, child, state="killed", result=f"stopped by the kill script "
                                                                         f"{entity.location}")
        count = len(targets)
        a.update({S + "finished": now(), S + "exit": 0 if count else 1, S + "state": "done" if count else "failed",
                  S + "result": f"stopped {count} fork{'s' if count != 1 else ''}" if count
                  else "no running fork matches"})

    def _configure(self, entity, ctx) -> None:
        a = entity.attributes
        name, sep, value = a[S + "syntax"].partition("=")
        name = name.strip()
        if not sep:
            raise BadRequest("a configure script's syntax is name=value", code="bad-configure", where=S + "syntax")
        metadata.check_name(name, where=S + "syntax")
        session = ctx.session
        found = session.list(Query(kinds=[METADATA.type_id], attributes={metadata.NAME: name}))
        values = {metadata.NAME: name, metadata.VALUE: value, "occi.metadata.state": 1}
        if found:
            record = found[0]
            session.update(replace(record, attributes={**record.attributes, **values}),
                           expected_version=record.version)
        else:
            ident = uuid.uuid4()
            session.insert(EntityRecord(location=f"{METADATA.location}{ident}", id=f"urn:uuid:{ident}",
                                        kind=METADATA.type_id, attributes=values, owner=entity.owner))
        metadata.write_file(self.home.metadata, metadata.variables(session))
        stamp = now()
        a.update({S + "started": stamp, S + "finished": stamp, S + "exit": 0, S + "state": "done",
                  S + "result": f"metadata {name} set"})

    # -- following forks -----------------------------------------------------------------------
    def _record_end(self, session, child: Child, *, state: str, result: str, code: int | None = None) -> None:
        record = session.get(child.location)
        self.home.pid_file(child.location).unlink(missing_ok=True)
        if record is None:
            return
        lines, truncated = tail(self.home.log_of(child.location))
        changes: dict[str, Any] = {S + "state": state, S + "result": result, S + "finished": now(),
                                   S + "output": lines, S + "truncated": truncated}
        if code is not None:
            changes[S + "exit"] = code
        session.update(replace(record, attributes={**record.attributes, **changes}), expected_version=record.version)

    def _write_end(self, child: Child, **what) -> None:
        try:
            with self.store.session() as session:
                self._record_end(session, child, **what)
        except StaleWrite:                  # pragma: no cover - every writer holds children.lock
            log.warning("script %s changed while its end was recorded", child.location)

    def reap(self) -> None:
        """Record the forks that ended; forget the ones whose whole group is gone (every 0.5 s)."""
        for child in self.children.forks():
            with self.children.lock:
                if self.children.get(child.location) is not child:
                    continue                # a kill or a delete took it meanwhile
                ended, code = child.leader_exit()
                if ended and not child.reported:
                    child.reported = True
                    if code is None:
                        self._write_end(child, state="lost", result="ended; its exit status is unknown (it was "
                                                                   "started before the agent restarted)")
                    else:
                        self._write_end(child, state="done" if code == 0 else "failed", result=_status(code),
                                        code=code)
                if ended and not group_alive(child.pid):
                    self.children.remove(child.location)

    def recover(self) -> None:
        """At start: follow again the forks an earlier agent process left running, recognised
        by their first process (pid and start time) or, when it is gone, by the environment
        of the processes it left (:func:`owned_group`); any other fork is ``lost``."""
        with self.store.session() as session:
            for record in session.list(Query(kinds=[SCRIPT.type_id], attributes={S + "state": "running"})):
                location = record.location
                try:
                    pid_text, ticks = self.home.pid_file(location).read_text().split()
                    pid = int(pid_text)
                except (OSError, ValueError):
                    pid, ticks = record.attributes.get(S + "pid") or 0, None
                child = Child(location=location, pid=pid, name=record.attributes.get(S + "name") or "",
                              command=record.attributes.get(S + "syntax") or "", started_ticks=ticks)
                leader = pid > 0 and ticks is not None and start_time(pid) == ticks
                owned = leader or (pid > 0 and owned_group(pid, home=self.home, script=location))
                if owned:
                    self.children.add(child)
                    log.warning("following again fork %s (process group %d) started by an earlier agent process",
                                location, pid)
                if leader:
                    continue
                if owned:
                    child.reported = True
                    result = "its first process ended while the agent was down; the processes it left are followed"
                else:
                    result = "no longer running when the agent restarted"
                    self.home.pid_file(location).unlink(missing_ok=True)
                lines, truncated = tail(self.home.log_of(location))
                session.update(replace(record, attributes={
                    **record.attributes, S + "state": "lost", S + "result": result, S + "finished": now(),
                    S + "output": lines, S + "truncated": truncated}), expected_version=record.version)

    def stop(self) -> None:
        """At the agent's stop: record what ended, stop every group still running."""
        self.reap()
        for child in self.children.stop_all():
            if child.fork and not child.reported:
                self._write_end(child, state="killed", result="stopped with the agent")
