"""os_tpl and resource_tpl mixins drawn from the configured providers' ``images()`` and ``sizes()``.

Each worker asks every provider for its images and sizes when it starts (waiting a few
seconds at most) and again every ``refresh_seconds``, from a thread of its own (never during
a request), and serves them in its query interface as provider mixins:

    os_tpl        scheme http://accords.example/occi/templates/<provider>/os#        term <image>
                  location /mixin/os_tpl/<provider>/<image>/
    resource_tpl  scheme http://accords.example/occi/templates/<provider>/resource#  term <size>
                  location /mixin/resource_tpl/<provider>/<size>/  (defaults: cores, memory in GiB)

Terms are the provider's names with anything but letters, digits, ``.``, ``_`` and ``-``
replaced by ``-`` (and a short hash when two names meet); the title gives the name as the
provider spells it. A compute that names one of them is placed on that provider, with that
image or size. A provider that does not answer keeps the templates it offered last; one that
never answered offers none. The component's own declared templates (provider-neutral) stay
as they are: any provider may take them.

The model is swapped through the app's :class:`occi.service.models.ModelCache` (its ``base``,
then ``invalidate()``): the next request sees the new templates, user mixins included.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from urllib.parse import quote

from broker.providers.base import Size
from occi.model import infrastructure as infra
from occi.model.attribute import Attribute
from occi.model.category import Mixin
from occi.model.registry import Model

__all__ = ["Template", "TemplateCatalog", "TEMPLATE_BASE", "template_for"]

log = logging.getLogger("accords.provisioning")

TEMPLATE_BASE = "http://accords.example/occi/templates/"
_NOT_TERM = re.compile(r"[^A-Za-z0-9_.\-]+")


@dataclass(frozen=True)
class Template:
    """What naming a template asks for: a provider (None: any), an image, or a size."""

    type_id: str
    provider: str | None = None
    image: str | None = None
    cores: int | None = None
    memory_mb: int | None = None
    disk_gb: int | None = None


def _term(name: str, taken: set[str]) -> str:
    term = _NOT_TERM.sub("-", name).strip("-.")[:80]
    if not term or not term[0].isalnum():
        term = f"t{term}"
    if term in taken:
        term = f"{term}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    taken.add(term)
    return term


def template_for(mixin: Mixin) -> Template | None:
    """A provider-neutral template declared with the component (its term is the image; its
    defaults are the size)."""
    if mixin.depends_on(infra.OS_TPL.type_id):
        return Template(type_id=mixin.type_id, image=mixin.term)
    if mixin.depends_on(infra.RESOURCE_TPL.type_id):
        attributes = mixin.attribute_map
        cores = attributes.get("occi.compute.cores")
        memory = attributes.get("occi.compute.memory")
        return Template(type_id=mixin.type_id, cores=cores.default if cores is not None else None,
                        memory_mb=int(round(memory.default * 1024)) if memory is not None and memory.default else None)
    return None


def _os_mixin(provider: str, segment: str, image: str, taken: set[str]) -> tuple[Mixin, Template]:
    scheme = f"{TEMPLATE_BASE}{quote(provider, safe='')}/os#"
    term = _term(image, taken)
    mixin = Mixin(scheme, term, title=f"image {image} on provider {provider}", depends=(infra.OS_TPL,),
                  applies=(infra.COMPUTE,), location=f"/mixin/os_tpl/{segment}/{term}/")
    return mixin, Template(type_id=mixin.type_id, provider=provider, image=image)


def _size_title(provider: str, size: Size) -> str:
    parts = [f"{size.cores} cores" if size.cores else "cores not told", f"{size.memory_mb / 1024:g} GiB"]
    if size.disk_gb:
        parts.append(f"{size.disk_gb} GB disk")
    if size.price is not None:
        parts.append(f"{size.price:g} {size.currency or ''}/h".replace(" /h", "/h"))
    return f"size {size.name} on provider {provider}: {', '.join(parts)}"


def _size_mixin(provider: str, segment: str, size: Size, taken: set[str]) -> tuple[Mixin, Template]:
    scheme = f"{TEMPLATE_BASE}{quote(provider, safe='')}/resource#"
    term = _term(size.name, taken)
    attributes = []
    if size.cores and size.cores >= 1:
        attributes.append(Attribute("occi.compute.cores", type="integer", default=int(size.cores), minimum=1))
    if size.memory_mb and size.memory_mb > 0:
        attributes.append(Attribute("occi.compute.memory", type="number", default=round(size.memory_mb / 1024, 3),
                                    minimum=0))
    mixin = Mixin(scheme, term, title=_size_title(provider, size), depends=(infra.RESOURCE_TPL,),
                  applies=(infra.COMPUTE,), location=f"/mixin/resource_tpl/{segment}/{term}/",
                  attributes=tuple(attributes))
    return mixin, Template(type_id=mixin.type_id, provider=provider, cores=size.cores or None,
                           memory_mb=size.memory_mb or None, disk_gb=size.disk_gb or None)


class TemplateCatalog:
    """The templates of one worker: asked of the providers, cached, refreshed, served."""

    def __init__(self, *, refresh_seconds: float = 300.0, max_per_provider: int = 200, first_wait: float = 5.0):
        self.refresh_seconds = refresh_seconds
        self.max_per_provider = max_per_provider
        self.first_wait = first_wait
        self._models = None
        self._declared: tuple = ()
        self._offers: dict[str, tuple[list[str], list[Size]]] = {}
        self._templates: dict[str, Template] = {}
        self._built = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clouds = None
        self._store = None

    # -- wiring -------------------------------------------------------------------------------
    def bind(self, models) -> None:
        """Serve the templates through ``models`` (the app's ModelCache)."""
        self._models = models
        self._declared = tuple(models.base.categories)

    def start(self, *, clouds, store) -> None:
        self._clouds, self._store = clouds, store
        first = threading.Event()

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.refresh()
                except Exception:                    # noqa: BLE001 - the next round tries again
                    log.exception("refreshing the providers' templates failed")
                first.set()
                self._stop.wait(self.refresh_seconds)

        self._thread = threading.Thread(target=loop, name="iaas-templates", daemon=True)
        self._thread.start()
        first.wait(self.first_wait)                  # a slow provider must not hold the worker's start

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- lookups ------------------------------------------------------------------------------
    def lookup(self, mixin: Mixin) -> Template | None:
        """What a compute naming ``mixin`` asks for; None when it is no template."""
        with self._lock:
            found = self._templates.get(mixin.type_id)
        return found if found is not None else template_for(mixin)

    # -- refreshing ---------------------------------------------------------------------------
    def _ask(self, name: str) -> tuple[list[str], list[Size]] | None:
        try:
            driver = self._clouds.driver(name)
            return list(driver.images())[: self.max_per_provider], list(driver.sizes())[: self.max_per_provider]
        except Exception as exc:                      # noqa: BLE001 - any driver failure: keep what it offered last
            log.warning("provider %s did not tell its images and sizes (%s): its templates stay as they were",
                        name, exc.__class__.__name__)
            return None

    def refresh(self) -> bool:
        """Ask every provider again; True when the templates changed (and the model with them)."""
        if self._clouds is None:
            return False
        offers = {}
        for name in self._clouds.names():
            answer = self._ask(name)
            offers[name] = answer if answer is not None else self._offers.get(name, ([], []))
        if offers == self._offers and self._built:
            return False
        mixins, templates = self._build(offers)
        if self._models is not None:
            try:
                base = Model([*self._declared, *mixins])
            except ValueError as exc:                # a clash we did not foresee: keep serving the old ones
                log.warning("the providers' templates cannot be served: %s", exc)
                return False
            self._models.base = base
            self._models.invalidate()
        with self._lock:
            self._offers, self._templates, self._built = offers, templates, True
        return True

    def _taken(self) -> tuple[set[str], set[str]]:
        """Type ids and locations already used (declared categories, user mixins): never shadowed."""
        ids = {c.type_id for c in self._declared}
        locations = {c.location for c in self._declared if getattr(c, "location", None)}
        if self._store is not None:
            try:
                with self._store.session(readonly=True) as session:
                    for record in session.user_mixins():
                        ids.add(record.type_id)
                        locations.add(record.location)
            except Exception as exc:                  # noqa: BLE001 - the store may be restarting
                log.warning("reading user mixins: %s", exc.__class__.__name__)
        return ids, locations

    def _build(self, offers: dict) -> tuple[list[Mixin], dict[str, Template]]:
        ids, locations = self._taken()
        mixins, templates, segments = [], {}, set()
        for provider, (images, sizes) in offers.items():
            segment = _term(provider, segments)
            image_terms: set[str] = set()
            size_terms: set[str] = set()
            made = [_os_mixin(provider, segment, image, image_terms) for image in dict.fromkeys(images) if image]
            made += [_size_mixin(provider, segment, size, size_terms) for size in sizes if size.name]
            for mixin, template in made:
                if mixin.type_id in ids or mixin.location in locations:
                    log.warning("template %s clashes with a category or user mixin: not offered", mixin.type_id)
                    continue
                ids.add(mixin.type_id)
                locations.add(mixin.location)
                mixins.append(mixin)
                templates[mixin.type_id] = template
        return mixins, templates
