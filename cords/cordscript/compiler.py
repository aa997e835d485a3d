"""From parsed Cordscript statements to the instructions the broker creates on procci
(CORDS.md §4 step 8, and §8 for what each method means).

Only the statements of ``configuration``, ``release`` and ``interface`` actions are compiled
here; the parse-time attribute methods (``X.new()``, ``type.resolve()``...) and business
expressions (``alert.new();``) are parsed but never become node instructions.

Checks (all located): the target and referenced nodes are declared; a node access path
only crosses complex nodes; the method exists for the node (built-in methods on any node,
interface actions on complex nodes only, checked against the nested manifest's interface
when it is known); the number and kind of arguments per method; configure() properties.

Normalisations: ``command`` is ``system`` and ``process`` is ``fork`` (the agent runs them
the same way); configure() properties are lowercased (the manual writes
``Publisher.HostName``); an affectation is the method ``set`` with arguments
``(property, value)``. A node reference is ``("ref", node, property)`` where ``node`` is the
node access path joined with '.': the root node name for a simple node,
``"accords:publisher.publisher"`` through a complex one (node names never contain '.', so
``ref[1].split(".")[0]`` is always the root node). A monitoring consumer that is not a node
(``slam``, ``coobas``...) is ``("consumer", name, metric)`` and creates no dependency.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Mapping, Protocol

from cords.diagnostics import Diagnostics, Location, register

from .ast import Assignment, Call, NumberValue, Path, PathValue, Statement, StringValue, Value

__all__ = ["Instruction", "NodeInfo", "compile_statements", "NATURES", "NODE_METHODS", "ATTRIBUTE_METHODS",
           "LINKAGE_PROPERTIES", "UNKNOWN_NODE", "UNKNOWN_METHOD", "UNKNOWN_INTERFACE_ACTION", "BAD_ARGUMENTS",
           "UNKNOWN_PROPERTY", "SIMPLE_NODE_PATH", "SELF_REFERENCE"]

UNKNOWN_NODE = register("cordscript-unknown-node", "a Cordscript statement names a node this manifest does not declare")
UNKNOWN_METHOD = register("cordscript-unknown-method",
                          "a Cordscript method is neither a node method (configure, system, command, fork, process, "
                          "kill, monitor, start, stop, save, snapshot) nor, on a complex node, an interface action; "
                          "interface actions cannot be called on simple nodes")
UNKNOWN_INTERFACE_ACTION = register("cordscript-unknown-interface-action",
                                    "a call on a complex node names an action its manifest's interface does not define")
BAD_ARGUMENTS = register("cordscript-bad-arguments",
                         "a Cordscript method has the wrong number or kind of arguments, or an affectation a "
                         "value that is not a constant")
UNKNOWN_PROPERTY = register("cordscript-unknown-property",
                            "configure() names a node property other than hostname, contract, reference or password")
SIMPLE_NODE_PATH = register("cordscript-path-through-simple-node",
                            "a node access path goes through a simple node (only complex nodes contain nodes)")
SELF_REFERENCE = register("cordscript-self-reference",
                          "a node is configured with one of its own properties (accepted; not a start-order "
                          "dependency)")

NATURES = ("configuration", "release", "interface")
LINKAGE_PROPERTIES = frozenset({"hostname", "contract", "reference", "password"})
_ALIASES = {"command": "system", "process": "fork"}
_STRING_METHODS = frozenset({"system", "fork", "kill"})
_ACTION_METHODS = frozenset({"start", "stop", "save", "snapshot"})
#: The methods of any node (after aliasing), besides the affectation ``set``.
NODE_METHODS = frozenset({"configure", "monitor"}) | _STRING_METHODS | _ACTION_METHODS | frozenset(_ALIASES)
#: Parse-time attribute methods (schema defaults, business values): never node instructions.
ATTRIBUTE_METHODS = frozenset({"new", "resolve", "build", "delete", "instance", "consume"})


class NodeInfo(Protocol):
    name: str
    complex: bool
    interface_actions: set[str]     # for a complex node; empty when its manifest is not known


@dataclass(frozen=True)
class Instruction:
    node: str                   # the (root) node the instruction runs on
    path: tuple[str, ...]       # full node access path: ("three",) or ("accords", "publisher")
    nature: str                 # configuration | release | interface
    method: str                 # configure, system, fork, kill, monitor, set, start... or an interface action
    arguments: tuple            # str, int/float, ("ref", node path, property), ("consumer", name, metric)
    depends_on: frozenset[str]  # root nodes to provision before this one
    location: Location

    @property
    def is_interface_call(self) -> bool:
        return self.method != "set" and self.method not in NODE_METHODS


def compile_statements(statements: Iterable[Statement], *, nature: str, nodes: Mapping[str, NodeInfo],
                       diagnostics: Diagnostics) -> list[Instruction]:
    """The instructions of ``statements`` (one action's, or a section's), in order; a statement
    with an error yields none, and every error is reported."""
    if nature not in NATURES:
        raise ValueError(f"nature must be one of {NATURES}, not {nature!r}")
    compiler = _Compiler(nature, nodes, diagnostics)
    out = []
    for statement in statements:
        instruction = compiler.statement(statement)
        if instruction is not None:
            out.append(instruction)
    return out


class _Compiler:
    def __init__(self, nature: str, nodes: Mapping[str, NodeInfo], diagnostics: Diagnostics):
        self.nature = nature
        self.nodes = nodes
        self.diagnostics = diagnostics
        # State of the statement being compiled: every problem is reported, then it is dropped.
        self.ok = True
        self.depends: set[str] = set()      # root nodes its references need provisioned first
        self.target_root = ""
        self.method = ""                    # after aliasing, or the interface action as its manifest spells it

    def error(self, code: str, message: str, location: Location | None) -> None:
        self.ok = False
        self.diagnostics.error(code, message, location)

    def statement(self, statement: Statement) -> Instruction | None:
        self.ok = True
        self.depends = set()
        self.target_root = statement.target.root
        if isinstance(statement, Assignment):
            node_path = Path(statement.target.parts[:-1], offset=statement.target.offset,
                             location=statement.target.location)
            method, what = "set", f"the affectation of {statement.target.parts[-1]!r}"
            self.node_path(node_path, what)
            arguments = (statement.target.parts[-1], self.constant(statement.value, what))
        else:
            node_path = statement.target
            self.method = _ALIASES.get(statement.method, statement.method)
            root = self.node_path(node_path, f"{statement.method}()")
            arguments = self.call(statement, node_path, self.method, root)
            method = self.method
        if not self.ok:
            return None
        self.depends.discard(node_path.root)
        return Instruction(node=node_path.root, path=node_path.parts, nature=self.nature, method=method,
                           arguments=tuple(arguments), depends_on=frozenset(self.depends),
                           location=statement.location)

    # -- nodes --------------------------------------------------------------------------------
    def node_path(self, path: Path, what: str, at: Location | None = None) -> NodeInfo | None:
        """The root node of ``path``, checked: declared, and complex if the path goes on."""
        node = self.nodes.get(path.root)
        if node is None:
            self.error(UNKNOWN_NODE, f"node {path.root!r} referenced by {what} is not declared in this manifest"
                       + self.suggestion(path.root), at or path.location)
            return None
        if len(path.parts) > 1 and not node.complex:
            self.error(SIMPLE_NODE_PATH, f"'{'.'.join(path.parts)}' goes through node {path.root!r}, which is a "
                                         "simple node (only complex nodes contain nodes)", at or path.location)
            return None
        return node

    def suggestion(self, name: str) -> str:
        if name.lower().startswith("cordscript:"):
            return " (the 'cordscript:' prefix belongs to business expressions, not to actions)"
        close = difflib.get_close_matches(name, list(self.nodes), n=1, cutoff=0.75) or \
            [n for n in self.nodes if n.lower() == name.lower()]
        return f" (did you mean {close[0]!r}?)" if close else ""

    def reference(self, value: PathValue, what: str) -> tuple:
        """A node property ``Node[.inner...].property``: ("ref", node path, property)."""
        path = value.path
        node_path = Path(path.parts[:-1], offset=path.offset, location=path.location)
        if self.node_path(node_path, what, value.location) is not None:
            if node_path.root == self.target_root:
                self.diagnostics.warning(SELF_REFERENCE, f"node {node_path.root!r} is given its own "
                                                         f"{path.parts[-1]!r}", value.location)
            self.depends.add(node_path.root)
        return ("ref", ".".join(node_path.parts), path.parts[-1])

    # -- values -------------------------------------------------------------------------------
    def constant(self, value: Value, what: str):
        if isinstance(value, (StringValue, NumberValue)):
            return value.text if isinstance(value, StringValue) else value.number
        self.error(BAD_ARGUMENTS, f"{what} takes a constant (a quoted string or a number), not "
                                  f"'{value.path}'", value.location)
        return None

    def argument(self, value: Value, what: str):
        """Interface call arguments: constants, or node properties (which are dependencies)."""
        if isinstance(value, PathValue):
            if len(value.path.parts) < 2:
                self.error(BAD_ARGUMENTS, f"{what}: '{value.path}' is neither a constant nor Node.property",
                           value.location)
                return None
            return self.reference(value, what)
        return self.constant(value, what)

    # -- methods ------------------------------------------------------------------------------
    def call(self, call: Call, target: Path, method: str, root: NodeInfo | None) -> list:
        what = f"{call.method}()"
        args = call.arguments
        at = call.method_location or call.location
        if method in ATTRIBUTE_METHODS and method not in getattr(root, "interface_actions", ()):
            self.error(UNKNOWN_METHOD, f"{what} is a parse-time attribute method, not a node instruction "
                                       f"(node methods: {', '.join(sorted(NODE_METHODS))})", at)
            return []
        if root is None:
            # Unknown target: still check the arguments, so that all errors show at once.
            return [self.argument(a, what) for a in args if isinstance(a, PathValue) and len(a.path.parts) > 1]
        if method not in NODE_METHODS:
            return self.interface(call, target, root, at)
        if method == "configure":
            return self.configure(call, what, at)
        if method == "monitor":
            return self.monitor(call, what, at)
        if method in _STRING_METHODS:
            if len(args) != 1 or not isinstance(args[0], StringValue):
                expected = "the process name" if method == "kill" else "the command line"
                self.error(BAD_ARGUMENTS, f"{what} takes one quoted string ({expected}), got {_describe(args)}",
                           args[0].location if len(args) == 1 else at)
                return []
            return [args[0].text]
        if args:      # start, stop, save, snapshot
            self.error(BAD_ARGUMENTS, f"{what} takes no argument, got {_describe(args)}", args[0].location)
        return []

    def configure(self, call: Call, what: str, at: Location | None) -> list:
        args = call.arguments
        if len(args) != 1:
            self.error(BAD_ARGUMENTS, f"{what} takes one argument (Node.hostname, .contract, .reference, "
                                      f".password, or a string), got {_describe(args)}", at)
            return []
        value = args[0]
        if isinstance(value, StringValue):
            return [value.text]
        if isinstance(value, NumberValue) or len(value.path.parts) < 2:
            self.error(BAD_ARGUMENTS, f"{what} takes Node.property or a string, got {_describe(args)}",
                       value.location)
            return []
        prop = value.path.parts[-1].lower()
        if prop not in LINKAGE_PROPERTIES:
            self.error(UNKNOWN_PROPERTY, f"{what}: {value.path.parts[-1]!r} is not a node property (use "
                                         f"{', '.join(sorted(LINKAGE_PROPERTIES))})", value.location)
        ref = self.reference(value, what)
        return [(ref[0], ref[1], prop)]

    def monitor(self, call: Call, what: str, at: Location | None) -> list:
        args = call.arguments
        if not 1 <= len(args) <= 2 or not isinstance(args[0], PathValue) or len(args[0].path.parts) < 2:
            self.error(BAD_ARGUMENTS, f"{what} takes consumer.metric and an optional control string, got "
                                      f"{_describe(args)}", args[0].location if args else at)
            return []
        out: list = []
        path = args[0].path
        if path.root in self.nodes:
            out.append(self.reference(args[0], what))       # a node consumer must exist first
        elif len(path.parts) == 2:
            out.append(("consumer", path.root, path.parts[1]))      # slam, coobas...: a service, not a node
        else:
            self.node_path(Path(path.parts[:-1], location=path.location), what, args[0].location)
        if len(args) == 2:
            if not isinstance(args[1], StringValue):
                self.error(BAD_ARGUMENTS, f"{what}: the control is a quoted string (a control instance), got "
                                          f"{_describe(args[1:])}", args[1].location)
            else:
                out.append(args[1].text)
        return out

    def interface(self, call: Call, target: Path, root: NodeInfo, at: Location | None) -> list:
        what = f"{call.method}()"
        if not root.complex:
            self.error(UNKNOWN_METHOD, f"{what} is not a Cordscript method (node methods: "
                                       f"{', '.join(sorted(NODE_METHODS))}), and {root.name!r} is a simple node, "
                                       "so it has no interface actions", at)
            return []
        # Only the root complex node's interface is known; deeper targets are checked when
        # the nested manifest is planned.
        # Method names are case-insensitive, so action names are matched so too; the
        # instruction keeps the action's name as its manifest writes it.
        actions = {a.lower(): a for a in root.interface_actions or ()}
        if len(target.parts) == 1 and actions:
            if call.method not in actions:
                self.error(UNKNOWN_INTERFACE_ACTION, f"{what}: the manifest of complex node {root.name!r} has no "
                                                     f"interface action {call.method!r} (it has: "
                                                     f"{', '.join(sorted(actions.values()))})", at)
                return []
            self.method = actions[call.method]
        return [self.argument(a, what) for a in call.arguments]


def _describe(args: tuple[Value, ...]) -> str:
    if not args:
        return "none"
    kinds = {StringValue: "a string", NumberValue: "a number", PathValue: "a node path"}
    return ", ".join(kinds[type(a)] for a in args)
