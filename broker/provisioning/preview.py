"""Where each node of a compiled plan would go, and why, without creating anything.

The question placement answers for a contract (:mod:`broker.provisioning.placement`), asked
for every node of a plan that is not stored: the provider and the reason, the image the node
would boot (its own, else the provider's default) and the size it asks for; or why it cannot
be placed. ``accords plan FILE --dry-run`` asks it after the parser's dry run.

A placement may reserve quota when it chooses (the placement component will): one that
does offers ``preview(node=, asked=)``, which must not; :class:`SimplePlacement` reserves
nothing, so its ``choose`` is asked as it is.
"""
from __future__ import annotations

from broker.provisioning.placement import Unplaceable

__all__ = ["preview_nodes", "size_of", "PreviewInputError"]


class PreviewInputError(ValueError):
    """The nodes asked about are not compiled nodes; ``where`` names the offending one."""

    def __init__(self, message: str, *, where: str):
        super().__init__(message)
        self.where = where


def size_of(node: dict) -> dict:
    """What the node asks for, as written in its infrastructure (the provider rounds it up)."""
    infrastructure = node.get("infrastructure") or {}
    compute = infrastructure.get("compute") or {}
    storage = infrastructure.get("storage") or {}
    cores = compute.get("cores")
    # The manifest's attributes arrive as written ("2"); a count reads better as a number.
    cores = int(cores) if isinstance(cores, str) and cores.isdigit() else cores
    size = {"cores": cores, "memory": compute.get("memory"), "disk": storage.get("size")}
    return {key: value for key, value in size.items() if value not in (None, "")}


def _refusal(node: dict) -> str | None:
    # The broker refuses these when it instantiates the plan (broker/services.py): say so now.
    if node.get("type") == "complex":
        return (f"node {node['name']} is a complex node (a nested manifest {node.get('manifest')!r}); the broker "
                "does not instantiate nested services yet")
    if node.get("scope") == "common":
        return f"node {node['name']} is a common node; the broker does not share contracts between services yet"
    return None


def _check(nodes) -> None:
    if not isinstance(nodes, list) or not nodes:
        raise PreviewInputError("\"nodes\" must be a non-empty array of compiled nodes (the parser's "
                                "compiled.nodes)", where="nodes")
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("name"), str) or not node["name"]:
            raise PreviewInputError(f"node {index} has no \"name\"", where=f"nodes[{index}]")


def preview_nodes(nodes: list, *, placement, clouds, provider: str | None = None) -> dict:
    """``{"nodes": [{node, provider, reason, image, size}], "unplaceable": [{node, reason}]}``.

    ``provider`` overrides every node's own (``accords submit --provider``), as the broker does."""
    _check(nodes)
    ask = getattr(placement, "preview", None)
    placed, unplaceable = [], []
    for node in nodes:
        refusal = _refusal(node)
        if refusal is not None:
            unplaceable.append({"node": node["name"], "reason": refusal})
            continue
        asked = provider or node.get("provider") or "any"
        try:
            if ask is not None:
                choice = ask(node=node, asked=asked)
            else:
                choice = placement.choose(node=node, asked=asked, contract="")
        except Unplaceable as exc:
            unplaceable.append({"node": node["name"], "reason": str(exc)})
            continue
        cloud = clouds.get(choice.provider)
        own_image = ((node.get("image") or {}).get("system") or {}).get("name")
        default_image = cloud.image if cloud is not None else None
        # As the reconciler builds the node (specs.node_spec): the provider's configured
        # image wins over the one the node names.
        placed.append({"node": node["name"], "provider": choice.provider, "reason": choice.reason,
                       "image": default_image or own_image,
                       "image_from": "provider" if default_image else ("node" if own_image else None),
                       "size": size_of(node)})
    return {"nodes": placed, "unplaceable": unplaceable}
