"""The start order of a manifest's nodes from the dependencies of its instructions.

``X.configure(Y.hostname)`` needs Y provisioned before X (CORDS reference manual, "Node
Linkage"), so configure() statements define a partial order. We start nodes in the
declaration order whenever the dependencies allow it (a stable topological sort: among the
nodes that can start, the first declared goes first), so an unchanged manifest always
gives the same order.

A cycle cannot be provisioned. It is reported with the nodes on it in order
(``web -> db -> web``: web needs db, db needs web), at the instruction that closes it —
the one, of the cycle's instructions, written last. Its edge is then dropped and sorting
goes on, so that independent cycles are all reported and a (partial) order is still given.
"""
from __future__ import annotations

import heapq
from typing import Callable, Iterable

from cords.diagnostics import Diagnostics, Location, register

from .compiler import Instruction

__all__ = ["dependency_order", "DEPENDENCY_CYCLE"]

DEPENDENCY_CYCLE = register("cordscript-dependency-cycle",
                            "configure() dependencies between nodes form a cycle, so no start order exists")


def dependency_order(instructions: Iterable[Instruction], nodes: Iterable[str], *, diagnostics: Diagnostics,
                     location_of: Callable[[str], Location]) -> list[str]:
    """Every node of ``nodes`` once, dependencies first; ties keep the order of ``nodes``.

    Dependencies on names outside ``nodes`` are ignored (compilation reported them).
    ``location_of(node)`` locates a cycle when no instruction does (never, for compiled ones).
    """
    order = list(dict.fromkeys(nodes))
    rank = {name: i for i, name in enumerate(order)}
    # (node, needed node) -> index of the first instruction that makes it, for locating cycles.
    edge_at: dict[tuple[str, str], int] = {}
    located: list[Instruction] = []
    for instruction in instructions:
        if instruction.node not in rank:
            continue
        for needed in sorted(instruction.depends_on, key=lambda n: rank.get(n, -1)):
            if needed in rank and needed != instruction.node and (instruction.node, needed) not in edge_at:
                edge_at[(instruction.node, needed)] = len(located)
        located.append(instruction)
    needs: dict[str, set[str]] = {name: set() for name in order}
    needed_by: dict[str, set[str]] = {name: set() for name in order}
    for node, needed in edge_at:
        needs[node].add(needed)
        needed_by[needed].add(node)

    started: list[str] = []
    waiting = {name: len(needs[name]) for name in order}
    ready = [rank[name] for name in order if not waiting[name]]
    heapq.heapify(ready)
    while len(started) < len(order):
        if not ready:
            node, needed = _break_cycle(order, rank, needs, started, edge_at, located, diagnostics, location_of)
            needs[node].discard(needed)
            needed_by[needed].discard(node)
            waiting[node] -= 1
            if not waiting[node]:
                heapq.heappush(ready, rank[node])
            continue
        name = order[heapq.heappop(ready)]
        started.append(name)
        for dependent in needed_by[name]:
            waiting[dependent] -= 1
            if not waiting[dependent]:
                heapq.heappush(ready, rank[dependent])
    return started


def _break_cycle(order, rank, needs, started, edge_at, located, diagnostics, location_of) -> tuple[str, str]:
    """Find a cycle among the nodes not started, report it, return the edge to drop."""
    done = set(started)
    # Every waiting node needs another waiting node, so walking "needs" from the first one
    # declared must come back to a node already seen: that part of the walk is a cycle.
    node = next(name for name in order if name not in done)
    walk: list[str] = []
    seen: dict[str, int] = {}
    while node not in seen:
        seen[node] = len(walk)
        walk.append(node)
        node = min((n for n in needs[node] if n not in done), key=rank.__getitem__)
    cycle = walk[seen[node]:]
    edges = [(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))]
    closing = max(range(len(edges)), key=lambda i: edge_at[edges[i]])
    # Name the cycle so that it ends with the closing edge: it reads in the order it was written.
    start = (closing + 1) % len(cycle)
    names = cycle[start:] + cycle[:start]
    names.append(names[0])
    edge = edges[closing]
    instruction = located[edge_at[edge]]
    diagnostics.error(DEPENDENCY_CYCLE, f"configure() dependencies form a cycle: {' -> '.join(names)}",
                      instruction.location or location_of(edge[0]))
    return edge
