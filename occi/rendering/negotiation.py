"""Content negotiation (GFD.223 §5, GFD.185 §3.6.6): Accept with q-values, 406 when nothing fits."""
from __future__ import annotations

from functools import lru_cache

from occi.errors import NotAcceptable, UnsupportedMediaType

__all__ = ["TEXT_PLAIN", "TEXT_OCCI", "TEXT_OCCI_PLAIN", "URI_LIST", "OCCI_JSON", "JSON",
           "SUPPORTED", "choose_media_type", "request_media_type"]

TEXT_PLAIN = "text/plain"
TEXT_OCCI_PLAIN = "text/occi+plain"
TEXT_OCCI = "text/occi"
URI_LIST = "text/uri-list"
OCCI_JSON = "application/occi+json"
JSON = "application/json"

#: In order of preference when a client accepts several equally.
SUPPORTED = (TEXT_PLAIN, TEXT_OCCI_PLAIN, TEXT_OCCI, OCCI_JSON, JSON, URI_LIST)
ACCEPT_HEADER = ", ".join(SUPPORTED)


def _parse_accept(header: str) -> list[tuple[str, float, int]]:
    ranges = []
    for index, item in enumerate(header.split(",")):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        quality = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
                quality = min(max(quality, 0.0), 1.0)
        ranges.append((media, quality, index))
    return ranges


def _matches(media_range: str, media: str) -> bool:
    if media_range in ("*/*", "*"):
        return True
    if media_range.endswith("/*"):
        return media.startswith(media_range[:-1])
    return media_range == media


@lru_cache(maxsize=512)
def choose_media_type(accept: str | None, listing: bool) -> str:
    """The media type to answer with.

    No Accept, or ``*/*``, yields text/plain (GFD.185). Among acceptable types the
    client's order and q-values decide; a type the client names exactly beats a wildcard.
    text/uri-list is only a candidate for listings: asked for explicitly on anything
    else it is a 400, raised by the caller, so we return it anyway.
    """
    if not accept or not accept.strip():
        return TEXT_PLAIN
    ranges = _parse_accept(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for media_range, quality, order in ranges:
        if quality <= 0:
            continue
        for preference, media in enumerate(SUPPORTED):
            if not _matches(media_range, media):
                continue
            if media == URI_LIST and not listing and media_range != URI_LIST:
                continue
            exact = 0 if media_range == media else 1
            key = (-quality, exact, order if exact == 0 else preference)
            if best is None or key < best:
                best, chosen = key, media
    if chosen is None:
        raise NotAcceptable(f"none of the accepted media types ({accept}) can render this; "
                            f"supported: {ACCEPT_HEADER}", where="Accept")
    return chosen


def request_media_type(content_type: str | None) -> str | None:
    """Normalise the request Content-Type to one of ours; None when absent; 415 when foreign."""
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    if media in SUPPORTED:
        return media
    if media in ("application/x-www-form-urlencoded", "*/*", ""):
        return None
    raise UnsupportedMediaType(f"cannot read a body of type {media}; send one of {ACCEPT_HEADER}",
                               where="Content-Type")
