"""Taking an image of a node (``snapshot`` and ``save``): one reconciler step, beside the state
machine, since the node stays where it is while its image is taken.

The request (``occi.contract.imaging``) is written by the action; the reconciler calls the
driver outside any transaction and then records the image (``images``; with ``save``, the
image the node is created from next time). A provider that cannot take images, or refuses,
leaves the node as it was: the event and the contract's message say why.
"""
from __future__ import annotations

from broker.provisioning.records import C
from broker.providers.base import ProviderError

__all__ = ["take_image"]


def take_image(reconciler, record) -> bool:
    """The image ``record`` asks for, taken and recorded; False (nothing more to do right away)."""
    a = record.attributes
    asked = a[C + "imaging"]
    placed, reference = a.get(C + "placed"), a.get(C + "reference")
    if not placed or not reference or reconciler.clouds.get(placed) is None:
        return _done(reconciler, record, f"no image of node {a.get(C + 'name')}: it has no node at a configured "
                                         "provider", outcome="failed")
    try:
        image = reconciler.clouds.driver(placed).snapshot(reference, name=asked["name"])
    except ProviderError as exc:
        if exc.transient and (a.get(C + "attempts") or 0) + 1 < reconciler.max_attempts:
            attempts = (a.get(C + "attempts") or 0) + 1
            delay = reconciler.backoff * 2 ** (attempts - 1)
            reconciler.contracts.write(record, {C + "attempts": attempts, C + "retry": reconciler.clock() + delay},
                                       event={"what": "image", "outcome": "retrying", "message": str(exc)},
                                       transition=False)
            return False
        return _done(reconciler, record, f"{placed} took no image of node {reference}: {exc}", outcome="failed")
    taken = {"name": asked["name"], "image": image, "provider": placed, "at": reconciler.clock(),
             "save": bool(asked.get("save"))}
    changes = {C + "images": [*(a.get(C + "images") or []), taken]}
    if asked.get("save"):
        changes[C + "image"] = image
    verb = "saved as" if asked.get("save") else "image"
    return _done(reconciler, record, f"{verb} {image} ({asked['name']}) on {placed}", changes=changes)


def _done(reconciler, record, message: str, *, outcome: str = "ok", changes: dict | None = None) -> bool:
    updated = reconciler.contracts.write(record, {C + "imaging": None, C + "attempts": 0, C + "retry": None,
                                                  C + "message": message, **(changes or {})},
                                         event={"what": "image", "outcome": outcome, "message": message})
    reconciler._report(updated)
    return False
