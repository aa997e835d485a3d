"""Configuring a node: its compiled Cordscript statements as node agent scripts, run in order.

``configure(Other.hostname)`` becomes the agent metadata ``Other_hostname`` (the original
platform's ``<symbol>_<property>``) holding Other's hostname, which every later script
receives in its environment; an affectation ``Node.prop = "v"`` the metadata ``prop``;
``system``, ``fork`` and ``kill`` are run by the agent as they are. Each script is named
after its statement (``configuration-0`` ...) and applied with a PUT: a reconciler that
resumes after a crash finds what already ran and does not run it twice.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from broker.agent.model import SCRIPT

__all__ = ["Step", "step_for", "AgentClient", "AgentError", "metadata_name"]

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def metadata_name(*parts: str) -> str:
    name = _NOT_IDENTIFIER.sub("_", "_".join(parts))
    return name if not name[:1].isdigit() else f"_{name}"


@dataclass(frozen=True)
class Step:
    """What the agent runs for one statement; ``skip`` says why nothing is run."""

    nature: str | None = None
    syntax: str | None = None
    skip: str | None = None


def step_for(method: str, arguments: list, values: dict[tuple[str, str], str]) -> Step:
    """The agent script of one statement; ``values[(node, property)]`` are the linkage values."""
    if method in ("system", "fork", "kill"):
        return Step(nature=method, syntax=str(arguments[0]))
    if method == "configure":
        argument = arguments[0] if arguments else None
        if isinstance(argument, list) and argument[:1] == ["ref"]:
            value = values.get((argument[1], argument[2]))         # the path may cross complex nodes
            if value is None:
                return Step(skip=f"{argument[1]}.{argument[2]} has no value")
            return Step(nature="configure", syntax=f"{metadata_name(argument[1], argument[2])}={value}")
        if isinstance(argument, str) and "=" in argument:
            return Step(nature="configure", syntax=argument)
        return Step(skip=f"configure({argument!r}) names no variable (use name=value)")
    if method == "set" and len(arguments) == 2:
        return Step(nature="configure", syntax=f"{metadata_name(str(arguments[0]))}={arguments[1]}")
    if method == "monitor":
        return Step(skip="monitoring probes are set up with the service's agreement (not by the configuration)")
    return Step(skip=f"{method}() is not run by the node agent")


class AgentError(Exception):
    """The agent could not be reached or refused the script; ``transient`` when worth retrying."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


class AgentClient:
    """The node agent of one contract, spoken to with the contract's token."""

    def __init__(self, url: str, token: str, *, timeout: float = 10.0):
        import requests

        self.url = url.rstrip("/")
        self._session = requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        self.timeout = timeout

    def close(self) -> None:
        self._session.close()

    def ready(self, *, within: float) -> bool:
        import requests

        deadline = time.monotonic() + within
        while True:
            try:
                if self._session.get(f"{self.url}/-/", timeout=self.timeout).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

    def run(self, name: str, step: Step, *, target: str, timeout: int = 300) -> dict:
        """The script's attributes after it ran (or as it ran before, when it already had)."""
        import requests

        location = f"{self.url}{SCRIPT.location}{name}"
        try:
            found = self._session.get(location, timeout=self.timeout)
            if found.status_code == 200:
                return found.json().get("attributes", {})
            body = {"kind": SCRIPT.type_id, "attributes": {
                "occi.script.name": name, "occi.script.syntax": step.syntax, "occi.script.nature": step.nature,
                "occi.script.target": target, "occi.script.timeout": timeout}}
            answer = self._session.put(location, json=body, timeout=timeout + self.timeout,
                                       headers={"Content-Type": "application/json"})
        except requests.RequestException as exc:
            raise AgentError(f"the agent at {self.url} cannot be reached ({exc.__class__.__name__})",
                             transient=True) from None
        if answer.status_code >= 500:
            raise AgentError(f"the agent answered {answer.status_code}", transient=True)
        if answer.status_code >= 400:
            try:
                detail = answer.json().get("message", "")
            except ValueError:
                detail = answer.text[:200]
            raise AgentError(f"the agent refused script {name} ({answer.status_code}: {detail})", transient=False)
        return answer.json().get("attributes", {})
