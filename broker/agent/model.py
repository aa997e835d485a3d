"""The node agent's categories (the original COSACS): ``metadata``, ``script`` and ``probe``.

Declared once, in the CompatibleOne scheme with the original attribute names (CORDS.md §12
"Agent (cosacs)"), plus what a mature agent reports: a script's exit status, the tail of its
output, its times and (for ``fork``) its pid; a probe's last value and time. What only the
agent writes is ``server_managed``: a client never sets it, even at creation.

Strings in OCCI text renderings cannot hold control characters (``occi.model.attribute``),
so a script's output travels as an array of lines (``occi.script.output``), each line with
its other control characters written as ``\\xNN``; the whole output is in the log file
named by ``occi.script.log``.
"""
from __future__ import annotations

from cords.model.base import Attributes, cords_action, cords_kind
from occi.model import Model

__all__ = ["METADATA", "SCRIPT", "PROBE", "PROBE_START", "PROBE_STOP", "CATEGORIES", "NATURES", "ALIASES",
           "SCRIPT_STATES", "PROBE_STATES", "DEFAULT_TIMEOUT", "MAX_TIMEOUT", "NAME_PATTERN", "model"]

#: A metadata name is a shell variable name: scripts receive it as one.
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
#: Cordscript node methods an agent runs (CORDS.md §8), and their aliases (cords.cordscript.compiler).
NATURES = ("configure", "system", "fork", "kill")
ALIASES = {"command": "system", "process": "fork"}
SCRIPT_STATES = ("running", "done", "failed", "timed-out", "killed", "lost")
PROBE_STATES = ("stopped", "running")
DEFAULT_TIMEOUT = 300
MAX_TIMEOUT = 3600

a = Attributes("metadata")
METADATA = cords_kind("metadata", "A variable of the node: every script receives it in its environment", (
    a("name", "Name of the variable (a shell identifier, e.g. db_hostname).", required=True, mutable=False,
      pattern=NAME_PATTERN),
    a("value", "Value of the variable (any text; scripts receive it verbatim).", default=""),
    a("target", "What the variable is for (e.g. the contract or instruction URL); informative."),
    a.state(),
))

a = Attributes("script")
SCRIPT = cords_kind("script", "A command the agent ran (system, fork, kill) or an instruction it applied (configure)", (
    a.name("Name of the script (informative; kill matches forked scripts by it)."),
    a("syntax", "The command line (system, fork), the process or script name (kill), or name=value "
                "(configure).", required=True, mutable=False),
    a.enum("nature", NATURES + tuple(ALIASES), "What to do with the syntax; command and process are stored as "
           "system and fork.", default="system", mutable=False),
    a("target", "What the script is for (e.g. the instruction URL); informative.", mutable=False),
    a.integer("timeout", f"Seconds a system script may run before its process group is killed "
                         f"(at most {MAX_TIMEOUT}).", minimum=1, maximum=MAX_TIMEOUT, default=DEFAULT_TIMEOUT,
              mutable=False),
    a.integer("timestamp", "When the agent received the script (seconds since the epoch).", mutable=False,
              server_managed=True),
    a("result", "What happened, in a few words (exit 0, timed out after 300 s, pid 1234, ...).",
      mutable=False, server_managed=True),
    a.enum("state", SCRIPT_STATES, "running (a fork), done, failed (non-zero exit), timed-out, killed (a fork "
           "stopped by kill or at agent stop), lost (a fork the agent could not follow after a restart).",
           mutable=False, server_managed=True),
    a.integer("exit", "Exit status; -N when the process was killed by signal N.", mutable=False,
              server_managed=True),
    a("output", "The last lines of standard output and error (at most 16 KiB), control characters as \\xNN.",
      type="array", mutable=False, server_managed=True),
    a("truncated", "Whether the output shown is only the tail of a longer one.", type="boolean",
      mutable=False, server_managed=True),
    a("started", "When the process started.", type="datetime", mutable=False, server_managed=True),
    a("finished", "When the process ended.", type="datetime", mutable=False, server_managed=True),
    a.integer("pid", "Process id of a fork (also its process group and session).", mutable=False,
              server_managed=True),
    a("log", "Path of the whole output on the node.", mutable=False, server_managed=True),
))

PROBE_START = cords_action("probe", "start", "Measure every period seconds")
PROBE_STOP = cords_action("probe", "stop", "Stop measuring")

a = Attributes("probe")
PROBE = cords_kind("probe", "A metric measured on the node by a command, every period seconds", (
    a.name("Name of the probe (e.g. web_cpu_idle)."),
    a("metric", "Name or URL of the metric measured."),
    a("expression", "Shell command whose last line of output is the value.", required=True),
    a("connection", "Where measurements will be delivered (monitors); not used yet."),
    a.integer("period", "Seconds between two samples.", minimum=1, maximum=86400, default=60),
    a.integer("samples", "Samples per measurement delivered.", minimum=1, maximum=1000, default=1),
    a("value", "Last value measured (the last non-empty line of output).", mutable=False, server_managed=True),
    a("number", "Last value as a number, when it is one.", type="number", mutable=False, server_managed=True),
    a("last", "When the last value was measured.", type="datetime", mutable=False, server_managed=True),
    a.integer("count", "Samples taken since the last start.", mutable=False, server_managed=True),
    a("error", "Why the last sample failed (cleared by the next good one).", mutable=False, server_managed=True),
    a.enum("state", PROBE_STATES, "running between start and stop.", default="stopped", mutable=False,
           server_managed=True),
), actions=(PROBE_START, PROBE_STOP))

CATEGORIES = (METADATA, SCRIPT, PROBE, PROBE_START, PROBE_STOP)


def model() -> Model:
    return Model(list(CATEGORIES))
