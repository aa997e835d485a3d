"""OcciClient: the OCCI 1.2 operations of GFD.223 in any of the three renderings.

Components of the broker talk to category servers through this one client so that
each of them does not hand-roll headers, quoting and error handling. Requests are
built with the same grammar the server parses with (occi.rendering.grammar) and
text responses are read with the server's own parser (parse_structures), so both
sides agree on quoting and typing by construction.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

import requests

from occi import errors
from occi.client.results import (CategoryInfo, Discovery, Entity, discovery_from_json, discovery_from_values,
                                 entity_from_json, entity_from_structures)
from occi.client.transport import Transport
from occi.rendering import grammar
from occi.rendering.structures import parse_structures

__all__ = ["OcciClient", "RENDERINGS"]

JSON_MEDIA = "application/occi+json"
URI_LIST = "text/uri-list"
RENDERINGS = {"json": JSON_MEDIA, "text/plain": "text/plain", "text/occi": "text/occi"}
_HEADER_STRUCTURES = ("Category", "Link", "X-OCCI-Attribute", "X-OCCI-Location")
_CORE_LINK = "http://schemas.ogf.org/occi/core#link"
_CORE_RESOURCE = "http://schemas.ogf.org/occi/core#resource"
Structures = list[tuple[str, str]]


def _split_id(type_id: str) -> tuple[str, str]:
    scheme, sep, term = type_id.rpartition("#")
    if not sep or not scheme or not term:
        raise ValueError(f"{type_id!r} is not a type identifier (scheme#term)")
    return scheme + "#", term


def _is_location(name: str) -> bool:
    """A path or URL, as opposed to a type id (``scheme#term``) or a bare term."""
    return name.startswith("/") or ("://" in name and "#" not in name)


def _category(type_id: str, cls: str, **extra: Any) -> tuple[str, str]:
    scheme, term = _split_id(type_id)
    return "Category", grammar.render_category(term=term, scheme=scheme, cls=cls, **extra)


def _attributes(values: dict[str, Any] | None) -> Structures:
    return [("X-OCCI-Attribute", grammar.render_attribute(k, v)) for k, v in (values or {}).items()]


def _utf8_header(value: str) -> str:
    """http.client hands header values over as latin-1; OCCI text carries UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _media(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def _items(response: requests.Response) -> list[tuple[str, str, str]]:
    """The (name, value, where) structures of a text response: headers for text/occi, else body lines."""
    if _media(response) == "text/occi":
        return [(name, _utf8_header(response.headers[name]), f"{name} header")
                for name in _HEADER_STRUCTURES if name in response.headers]
    items = []
    for number, line in enumerate(response.content.decode("utf-8").splitlines(), start=1):
        name, sep, value = line.partition(":")
        if sep and name.strip() and " " not in name.strip():
            items.append((name.strip(), value.strip(), f"line {number}"))
    return items


class OcciClient:
    """A client of one OCCI server; every method returns plain data (see occi.client.results).

    ``rendering`` chooses what requests are written in and what is asked back; every
    server error becomes the matching :mod:`occi.errors` exception with the server's
    message, code and where. Discovery (``GET /-/``) is cached and refreshed when a
    category is not found in it or after a user mixin is added or removed.

    ``request_id`` is sent as ``X-Request-Id`` with every request; without it, the id of the
    request the calling server is handling (:data:`occi.client.request_id`), if any.
    """

    def __init__(self, base_url: str, *, token: str | None = None, basic: tuple[str, str] | None = None,
                 credentials=None, rendering: str = "json", timeout: float = 10.0, retries: int = 3, backoff: float = 0.2,
                 session: requests.Session | None = None, user_agent: str = "accords-client/0.1 OCCI/1.2",
                 request_id: str | None = None):
        if rendering not in RENDERINGS:
            raise ValueError(f"rendering must be one of {', '.join(RENDERINGS)}, not {rendering!r}")
        self.rendering = rendering
        self.transport = Transport(base_url, token=token, basic=basic, credentials=credentials, timeout=timeout,
                                   retries=retries,
                                   backoff=backoff, session=session, user_agent=user_agent, request_id=request_id)
        self._discovery: Discovery | None = None

    def __repr__(self) -> str:
        return f"OcciClient({self.transport.base_url!r}, rendering={self.rendering!r})"

    def __enter__(self) -> "OcciClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session if the client made it (an injected one belongs to the caller)."""
        self.transport.close()

    @property
    def _json(self) -> bool:
        return self.rendering == "json"

    # -- wire -------------------------------------------------------------------------------
    def _send(self, method: str, location: str, *, json_body: Any = None, structures: Structures = (),
              filters: Structures = (), accept: str | None = None,
              params: dict[str, Any] | None = None) -> requests.Response:
        """One request: the body in this client's rendering; GET filters always travel as headers."""
        headers: dict[str, Any] = {"Accept": accept or RENDERINGS[self.rendering]}
        body = None
        if self._json and json_body is not None:
            headers["Content-Type"] = JSON_MEDIA
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        elif self.rendering == "text/plain" and structures:
            headers["Content-Type"] = "text/plain; charset=utf-8"
            body = "".join(f"{name}: {value}\n" for name, value in structures).encode("utf-8")
        elif self.rendering == "text/occi" and structures:
            headers["Content-Type"] = "text/occi"
            filters = [*filters, *structures]
        grouped: dict[str, list[str]] = {}
        for name, value in filters:
            grouped.setdefault(name, []).append(value)
        for name, values in grouped.items():
            headers[name] = ", ".join(values).encode("utf-8")   # bytes: UTF-8 on the wire, as the server reads
        return self.transport.request(method, location, headers=headers, body=body, params=params)

    def _locations(self, response: requests.Response) -> list[str]:
        media = _media(response)
        if "json" in media:
            data = response.json()
            if "locations" in data:
                return list(data["locations"])
            items = data.get("resources", data.get("links", [data] if "kind" in data else []))
            return [entity_from_json(item, None, self._locate).location for item in items]
        if media == URI_LIST:
            lines = response.content.decode("utf-8").splitlines()
            return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        return parse_structures(_items(response), strict_names=False).locations

    def _entity(self, response: requests.Response, location: str) -> Entity:
        url = self.transport.url(location)
        if "json" in _media(response):
            entity = entity_from_json(response.json(), url, self._locate)
        else:
            entity = entity_from_structures(_items(response), url)
        if entity.kind is None:   # every entity has a kind: this is a broken or truncated response
            error = errors.OcciError(f"{response.request.method} {url} answered {response.status_code} without an "
                                     f"entity rendering (Content-Type {_media(response) or 'missing'})",
                                     code="bad-response", where=url)
            error.status = 502
            raise error
        return entity

    def _locate(self, kind: str, ident: str) -> str:
        """GFD.226 entities carry no location; ours are kind location + the uuid of ``urn:uuid:`` ids."""
        return self.transport.url(self.location_of(kind) + (ident or "").removeprefix("urn:uuid:"))

    # -- discovery --------------------------------------------------------------------------
    def discover(self, category: str | None = None) -> Discovery:
        """``GET /-/``, optionally filtered to one category (type id) and those related to it."""
        filters = [_category(category, self._class_of(category))] if category else []
        response = self._send("GET", "/-/", filters=filters)
        if "json" in _media(response):
            found = discovery_from_json(response.json())
        else:
            found = discovery_from_values(self._category_values(response))
        if category is None:
            self._discovery = found
        return found

    @staticmethod
    def _category_values(response: requests.Response) -> list[grammar.CategoryValue]:
        # grammar.parse_category directly: parse_structures keeps no attributes or actions of a category.
        return [grammar.parse_category(value, where=where)
                for name, raw, where in _items(response) if name.lower() == "category"
                for value in grammar.split_values(raw, where=where)]

    def _model(self, *, refresh: bool = False) -> Discovery:
        if self._discovery is None or refresh:
            self.discover()
        assert self._discovery is not None
        return self._discovery

    def _lookup(self, name: str | CategoryInfo) -> CategoryInfo:
        """A kind or mixin by CategoryInfo, type id, unique term, or location (path or URL)."""
        if isinstance(name, CategoryInfo):
            return name
        for refresh in (False, True):
            model = self._model(refresh=refresh)
            found = model.by_location(self.transport.path(name)) if _is_location(name) else model.find(name)
            if found is not None:
                return found
        raise errors.NotFound(f"{self.transport.base_url}/-/ describes no kind or mixin {name}",
                              code="unknown-category", where=name)

    def _class_of(self, type_id: str) -> str:
        found = self._model().get(type_id) or self._model(refresh=True).get(type_id)
        return found.cls if found is not None else "kind"   # unknown: the server answers 404

    def location_of(self, kind_or_type_id: str | CategoryInfo) -> str:
        """The collection path of a kind or mixin (type id, unique term or CategoryInfo), from discovery."""
        found = self._lookup(kind_or_type_id)
        if found.location is None:
            raise errors.NotFound(f"{found.type_id} has no location", code="no-location", where=found.type_id)
        return found.location

    def _collection(self, collection: str) -> str:
        return collection if _is_location(collection) else self.location_of(collection)

    def _kind_of(self, location: str) -> str:
        """The kind of an entity: from its collection path in discovery, else by reading it."""
        path = self.transport.path(location)
        found = self._model().by_location(path[: path.rstrip("/").rfind("/") + 1])
        if found is not None and found.cls == "kind":
            return found.type_id
        kind = self.get(location).kind
        if kind is None:
            raise errors.BadRequest(f"{location} shows no kind", code="no-kind", where=location)
        return kind

    def _action_id(self, holder: CategoryInfo | None, term: str) -> str | None:
        """The type id of action ``term``: the holder's own, else the only action of that name."""
        own = [a for a in (holder.actions if holder else ()) if a.rpartition("#")[2] == term]
        if own:
            return own[0]
        anywhere = [a.type_id for a in self._model().actions if a.term == term]
        return anywhere[0] if len(anywhere) == 1 else None

    # -- entities ---------------------------------------------------------------------------
    @staticmethod
    def _json_link(spec: dict[str, Any]) -> dict[str, Any]:
        target: dict[str, Any] = {"location": spec["target"]}
        if spec.get("rel"):
            target["kind"] = spec["rel"]
        return {"kind": spec.get("kind") or _CORE_LINK, "mixins": list(spec.get("mixins") or ()),
                "attributes": dict(spec.get("attributes") or {}), "target": target}

    @staticmethod
    def _text_link(spec: dict[str, Any]) -> tuple[str, str]:
        return "Link", grammar.render_link(
            target=spec["target"], rel=spec.get("rel") or _CORE_RESOURCE,
            categories=[spec.get("kind") or _CORE_LINK, *(spec.get("mixins") or ())],
            attributes=spec.get("attributes"))

    def _entity_request(self, kind: str | None, attributes: dict[str, Any] | None, mixins: Iterable[str],
                        links: Iterable[dict[str, Any]] = ()) -> tuple[Any, Structures]:
        mixins, links = list(mixins), list(links)
        if self._json:
            body: dict[str, Any] = {"kind": kind}
            if mixins:
                body["mixins"] = mixins
            if attributes:
                body["attributes"] = dict(attributes)
            if links:
                body["links"] = [self._json_link(link) for link in links]
            return body, []
        structures = [_category(kind, "kind")] if kind else []
        structures += [_category(m, "mixin") for m in mixins]
        structures += [self._text_link(link) for link in links]
        return None, structures + _attributes(attributes)

    def create(self, kind: str, *, attributes: dict[str, Any] | None = None, mixins: Iterable[str] = (),
               links: Iterable[dict[str, Any]] = (), title: str | None = None,
               summary: str | None = None) -> str:
        """POST to the kind's collection; returns the absolute URL of the new entity.

        ``kind`` is a type id, unique term or collection location. ``links`` are inline links:
        dicts with ``target`` and optionally ``kind``, ``mixins``, ``attributes`` and ``rel``.
        """
        info = self._lookup(kind)
        attributes = dict(attributes or {})
        attributes.update((n, v) for n, v in (("occi.core.title", title), ("occi.core.summary", summary))
                          if v is not None)
        body, structures = self._entity_request(info.type_id, attributes, mixins, links)
        response = self._send("POST", info.location or kind, json_body=body, structures=structures)
        if response.headers.get("Location"):
            return self.transport.url(response.headers["Location"])
        return self.transport.url(self._locations(response)[0])

    def create_many(self, kind: str, entities: list[dict[str, Any]]) -> list[str]:
        """POST several entities of one kind in one request (OCCI JSON ``{"resources": [...]}``),
        created atomically: all or none. Each is a dict with ``attributes`` and optionally ``id``
        (``urn:uuid:...``: the entity is at the kind's location + that uuid) and ``mixins``.
        Their absolute URLs, in order. JSON only: the text renderings carry one entity."""
        if not self._json:
            raise ValueError("several entities in one request need the OCCI JSON rendering")
        info = self._lookup(kind)
        resources = []
        for entity in entities:
            body, _ = self._entity_request(info.type_id, entity.get("attributes"), entity.get("mixins", ()))
            if entity.get("id") is not None:
                body["id"] = entity["id"]
            resources.append(body)
        response = self._send("POST", info.location or kind, json_body={"resources": resources}, structures=[])
        return [self.transport.url(location) for location in self._locations(response)]

    def get(self, location: str) -> Entity:
        return self._entity(self._send("GET", location), location)

    def update(self, location: str, *, attributes: dict[str, Any] | None = None,
               mixins: Iterable[str] = ()) -> Entity:
        """Partial update (POST): only the named attributes change; mixins are added."""
        body, structures = self._entity_request(self._kind_of(location) if self._json else None,
                                                attributes, mixins)
        return self._entity(self._send("POST", location, json_body=body, structures=structures), location)

    def replace(self, location: str, *, kind: str, attributes: dict[str, Any] | None,
                mixins: Iterable[str] = ()) -> Entity:
        """Full replace, or create at this location (PUT): attributes not given are dropped."""
        body, structures = self._entity_request(self._lookup(kind).type_id, attributes, mixins)
        return self._entity(self._send("PUT", location, json_body=body, structures=structures), location)

    def delete(self, location: str) -> None:
        self._send("DELETE", location)

    def _action_request(self, type_id: str | None, parameters: dict[str, Any]) -> tuple[Any, Structures]:
        if type_id is None:   # the server resolves a bare ?action=term among what the entity offers
            if self._json and parameters:
                raise ValueError("cannot tell the action's scheme; pass scheme=")
            return None, _attributes(parameters)
        if self._json:
            return ({"action": type_id, "attributes": parameters} if parameters else {"action": type_id}), []
        return None, [_category(type_id, "action"), *_attributes(parameters)]

    def action(self, location: str, term: str, *, scheme: str | None = None, **parameters: Any) -> Entity:
        """``POST location?action=term`` with the action's parameters; returns the entity after it."""
        path = self.transport.path(location)
        holder = self._model().by_location(path[: path.rstrip("/").rfind("/") + 1])
        type_id = scheme + term if scheme else self._action_id(holder, term)
        body, structures = self._action_request(type_id, parameters)
        response = self._send("POST", location, json_body=body, structures=structures, params={"action": term})
        return self._entity(response, location)

    # -- collections --------------------------------------------------------------------------
    def _filters(self, filters: dict[str, Any] | None, category: str | None) -> Structures:
        out = [_category(category, self._class_of(category))] if category else []
        return out + _attributes(filters)

    @staticmethod
    def _pages(page: int | None, number: int | None) -> dict[str, int]:
        return {k: v for k, v in (("page", page), ("number", number)) if v is not None}

    def list(self, collection: str, *, filters: dict[str, Any] | None = None, category: str | None = None,
             page: int | None = None, number: int | None = None) -> list[str]:
        """Absolute locations in a collection (JSON collections carry no locations: asks for a uri-list)."""
        response = self._send("GET", self._collection(collection), filters=self._filters(filters, category),
                              accept=URI_LIST if self._json else None, params=self._pages(page, number))
        return self._locations(response)

    def list_entities(self, collection: str, *, filters: dict[str, Any] | None = None,
                      category: str | None = None, page: int | None = None,
                      number: int | None = None) -> list[Entity]:
        """Whole entities of a collection in one request; always JSON, the only rendering that has them.

        GFD.226 entity objects carry no location, so each is derived as kind location + the
        uuid of its id: right for everything created by POST, wrong for an entity created by
        PUT at a name of the client's choice (use :meth:`list` for those).
        """
        response = self._send("GET", self._collection(collection), filters=self._filters(filters, category),
                              accept=JSON_MEDIA, params=self._pages(page, number))
        data = response.json()
        items = data.get("resources", data.get("links", []))
        return [entity_from_json(item, None, self._locate) for item in items]

    def collection_action(self, collection: str, term: str, *, scheme: str | None = None,
                          **parameters: Any) -> list[str]:
        """An action on every member of a collection; returns the locations it acted on."""
        location = self._collection(collection)
        holder = self._model().by_location(self.transport.path(location))
        type_id = scheme + term if scheme else self._action_id(holder, term)
        body, structures = self._action_request(type_id, parameters)
        response = self._send("POST", location, json_body=body, structures=structures, params={"action": term})
        return self._locations(response)

    # -- user mixins --------------------------------------------------------------------------
    def add_mixin(self, term: str, scheme: str, location: str, *, title: str | None = None,
                  depends: Iterable[str] = ()) -> CategoryInfo:
        """Define a user mixin (``POST /-/``): a tag with a collection at ``location``."""
        depends = list(depends)
        if self._json:
            mixin: dict[str, Any] = {"term": term, "scheme": scheme, "location": location}
            if title:
                mixin["title"] = title
            if depends:
                mixin["depends"] = depends
            response = self._send("POST", "/-/", json_body={"mixins": [mixin]})
            created = discovery_from_json(response.json()).mixins
        else:
            structures = [("Category", grammar.render_category(term=term, scheme=scheme, cls="mixin", title=title,
                                                               rel=depends, location=location))]
            response = self._send("POST", "/-/", structures=structures)
            created = discovery_from_values(self._category_values(response)).mixins
        self._discovery = None
        return next((m for m in created if m.term == term and m.scheme == scheme),
                    CategoryInfo(term=term, scheme=scheme, cls="mixin", title=title, location=location,
                                 depends=depends))

    def remove_mixin(self, type_id: str) -> None:
        """Remove a user mixin and all its associations (``DELETE /-/``)."""
        scheme, term = _split_id(type_id)
        self._send("DELETE", "/-/", json_body={"mixins": [{"term": term, "scheme": scheme}]},
                   structures=[_category(type_id, "mixin")])
        self._discovery = None

    def _membership(self, locations: Iterable[str]) -> tuple[Any, Structures]:
        locations = list(locations)
        return {"locations": locations}, [("X-OCCI-Location", loc) for loc in locations]

    def associate(self, mixin_location: str, locations: Iterable[str]) -> list[str]:
        """Tag entities with a mixin (``POST`` to its collection); returns the members after it."""
        body, structures = self._membership(locations)
        response = self._send("POST", self._collection(mixin_location), json_body=body, structures=structures)
        return self._locations(response)

    def disassociate(self, mixin_location: str, locations: Iterable[str] | None = None) -> None:
        """Untag the given entities, or all members when ``locations`` is None.

        Refuses anything but a mixin collection: the same DELETE on a kind collection
        would delete every entity in it.
        """
        if locations is not None and not isinstance(locations, (list, tuple)):
            locations = list(locations)
        if locations is not None and not locations:
            return   # an empty list would mean "every member" on the wire
        location = self._collection(mixin_location)
        if self._lookup(location).cls != "mixin":
            raise ValueError(f"{mixin_location} is not a mixin collection; DELETE there would delete entities")
        body, structures = self._membership(locations) if locations is not None else (None, [])
        self._send("DELETE", location, json_body=body, structures=structures)
