"""Prometheus metrics of one component: requests, latencies and errors, served at ``/metrics``.

* ``accords_http_requests_total{component, method, route, status}``
* ``accords_http_request_duration_seconds{component, method, route}`` (histogram)
* ``accords_http_errors_total{component, code}``: the OCCI error code of every 4xx and 5xx

``route`` stays low-cardinality whatever clients send: a kind or mixin collection location
(``/compute/``), ``<kind location>{id}`` for the entities of a kind (``/compute/{id}``), one
of the fixed routes (``/``, ``/-/``, ``/healthz``, ``/readyz``, ``/metrics``), else
``other`` (unknown paths, so that a scanner cannot create series). Entity ids never
become labels.

Processes: without ``PROMETHEUS_MULTIPROC_DIR`` every app counts in a registry of its own
(several apps in one test process do not collide). With it (``accords serve`` sets it to a
fresh directory per server before gunicorn forks), prometheus_client's multiprocess mode
keeps each worker's counts in files there and ``/metrics`` adds up every worker's,
including those of workers that have exited.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from bisect import bisect_left

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client import multiprocess, values
from prometheus_client.exposition import choose_encoder

from occi.model.category import Kind

__all__ = ["Metrics", "MetricsResource", "RouteLabels", "FIXED_ROUTES", "OTHER", "FLUSH_INTERVAL",
           "multiprocess_dir"]

log = logging.getLogger("occi.server.metrics")

#: Paths that are their own label (the query interface has two locations and one label).
FIXED_ROUTES = {"/": "/", "/-/": "/-/", "/.well-known/org/ogf/occi/-/": "/-/",
                "/healthz": "/healthz", "/readyz": "/readyz", "/metrics": "/metrics"}
_FIXED_LABELS = frozenset(FIXED_ROUTES.values())
OTHER = "other"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
#: Our answers take from well under a millisecond (a cached GET) to seconds (large listings).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


def _follow_environment() -> None:
    """prometheus_client picks its value class (in-memory or shared files) when it is first
    imported. ``accords serve`` sets PROMETHEUS_MULTIPROC_DIR later than that (it needs the
    data directory), so follow the environment as it is when an app is made."""
    wanted = multiprocess_dir() is not None
    if wanted != (values.ValueClass is not values.MutexValue):
        values.ValueClass = values.get_value_class()


class RouteLabels:
    """The ``route`` label of a path, in two steps: :meth:`shape` on every request (string
    operations only), :meth:`label` once per shape when the tally is written (a lookup in the
    model the service last built; never a store access)."""

    _ENTITY = "{id}"

    def __init__(self, service):
        self._models = service.models

    def shape(self, path: str) -> str:
        """The label the path would have if its collection exists: itself for a collection,
        ``<collection>{id}`` for an entity."""
        fixed = FIXED_ROUTES.get(path)
        if fixed is not None:
            return fixed
        if path.endswith("/"):
            return path
        return path[:path.rfind("/") + 1] + self._ENTITY

    def label(self, shape: str) -> str:
        if shape in _FIXED_LABELS:
            return shape
        model = self._models.latest
        if shape.endswith(self._ENTITY):
            return shape if isinstance(model.by_location(shape[:-len(self._ENTITY)]), Kind) else OTHER
        return shape if model.by_location(shape) is not None else OTHER

    def __call__(self, path: str) -> str:
        return self.label(self.shape(path))


def _code_label(code: str | None) -> str:
    """An error code as a label: our codes are short kebab-case words; anything else is ``other``."""
    if code and len(code) <= 40 and _CODE_CHARS.issuperset(code):
        return code
    return OTHER


class Metrics:
    """The three series of one component, and their exposition.

    A request only adds to a tally in memory (a lock, a dict, three additions): each update
    of a prometheus_client value costs 1 to 3 µs (a lock, and in multiprocess mode a write to
    the shared file), and a request makes three. The tally goes into the prometheus values
    at most :data:`FLUSH_INTERVAL` seconds later (a background thread), before every scrape
    this process answers, and when the process exits: a scrape may miss the last second of
    the other workers' requests, never a request.
    """

    def __init__(self, component: str, route: RouteLabels):
        _follow_environment()
        self.component = component
        self.route = route
        self.directory = multiprocess_dir()
        self.registry = None if self.directory else CollectorRegistry()
        self.requests = Counter("accords_http_requests", "HTTP requests answered, by route and status",
                                ("component", "method", "route", "status"), registry=self.registry)
        self.duration = Histogram("accords_http_request_duration_seconds",
                                  "Time from reading the request to the response, by route",
                                  ("component", "method", "route"), buckets=BUCKETS, registry=self.registry)
        self.errors = Counter("accords_http_errors", "Error responses (4xx and 5xx) by OCCI error code",
                              ("component", "code"), registry=self.registry)
        self._bounds = tuple(BUCKETS)
        self._lock = threading.Lock()
        #: (method, route shape, status, error code) -> [requests, seconds, requests per bucket (+Inf last)]
        self._tally: dict[tuple, list] = {}
        _register(self)

    def observe(self, method: str, path: str, status: int, seconds: float, error_code: str | None = None) -> None:
        """Count one answered request (once per request, after the response is made); ``error_code``
        is the code of the OcciError the response renders, if any."""
        if method not in _METHODS:
            method = OTHER
        key = (method, self.route.shape(path), status, None if error_code is None else _code_label(error_code))
        bucket = bisect_left(self._bounds, seconds)       # the first bound >= seconds ("le" is inclusive)
        with self._lock:
            tally = self._tally.get(key)
            if tally is None:
                tally = self._tally[key] = [0, 0.0, [0] * (len(self._bounds) + 1)]
            tally[0] += 1
            tally[1] += seconds
            tally[2][bucket] += 1

    def flush(self) -> None:
        """Add the tally to the prometheus values (and so, in multiprocess mode, to this
        process's file)."""
        with self._lock:
            tally, self._tally = self._tally, {}
        for (method, shape, status, code), (count, seconds, buckets) in tally.items():
            route = self.route.label(shape)
            self.requests.labels(self.component, method, route, str(status)).inc(count)
            _add_observations(self.duration.labels(self.component, method, route), seconds, buckets)
            if code is not None:
                self.errors.labels(self.component, code).inc(count)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The body and content type of a scrape: Prometheus text, or OpenMetrics when asked for."""
        self.flush()
        registry = self.registry
        if registry is None:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self.directory)
        encoder, content_type = choose_encoder(accept or "")
        return encoder(registry), content_type


def _add_observations(histogram, seconds: float, buckets: list[int]) -> None:
    """Add many observations to a histogram child at once. prometheus_client has no call for
    that, so this writes its sum and bucket values (stable for years: ``_sum``, ``_buckets``);
    the buckets are ours (BUCKETS), as the child's own bounds are."""
    histogram._sum.inc(seconds)
    for value, count in zip(histogram._buckets, buckets):
        if count:
            value.inc(count)


# -- the flusher: one daemon thread per process, for every live Metrics -------------------------
FLUSH_INTERVAL = 1.0
_LIVE: "weakref.WeakSet[Metrics]" = weakref.WeakSet()
_flusher: threading.Thread | None = None
_flusher_lock = threading.Lock()


def _flush_all() -> None:
    with _flusher_lock:
        live = list(_LIVE)
    for metrics in live:
        try:
            metrics.flush()
        except Exception:  # noqa: BLE001 - a broken metrics file must not stop the others (or exit)
            log.exception("writing the metrics of %s failed", metrics.component)


def _flush_loop() -> None:
    while True:
        time.sleep(FLUSH_INTERVAL)
        _flush_all()


def _start_flusher() -> None:
    global _flusher
    if _flusher is None or not _flusher.is_alive():
        _flusher = threading.Thread(target=_flush_loop, name="accords-metrics", daemon=True)
        _flusher.start()


def _register(metrics: "Metrics") -> None:
    with _flusher_lock:
        _LIVE.add(metrics)
        _start_flusher()


def _after_fork() -> None:
    """A forked child has no thread but the one that forked, may hold copies of locks that
    other threads held, and must not count its parent's requests again: start afresh."""
    global _flusher, _flusher_lock
    _flusher, _flusher_lock = None, threading.Lock()
    for metrics in list(_LIVE):
        metrics._lock = threading.Lock()
        metrics._tally = {}
    if _LIVE:
        with _flusher_lock:
            _start_flusher()


os.register_at_fork(after_in_child=_after_fork)
atexit.register(_flush_all)


class MetricsResource:
    """``GET /metrics``. Without credentials from loopback addresses (see occi.auth): counts by
    route, status and error code, nothing about any entity or caller."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def on_get(self, req, resp):
        body, content_type = self.metrics.exposition(req.get_header("Accept"))
        resp.content_type = content_type
        resp.cache_control = ["no-store"]
        resp.data = body
