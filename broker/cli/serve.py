"""``accords serve COMPONENT``: one component under gunicorn with several workers."""
from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import sys

import gunicorn.http.wsgi
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from apscheduler.schedulers.background import BackgroundScheduler

from broker import components, settings
from broker.platform import Auth, PlatformError, auth_for
from occi.model.core import CORE_SCHEME
from occi.publisher.client import PublicationKeeper, PublisherClient
from occi import logs
from occi.server import create_app
from occi.server.middleware import SERVER_HEADER
from occi.store import open_store

__all__ = ["serve", "build_app"]

log = logging.getLogger("accords.serve")


def build_app(component_name: str, *, db_url: str, auth: Auth, public_url: str | None = None,
              publisher: str | None = None, own_url: str | None = None, data=None, attach_options=None):
    """The WSGI app of a component (in each worker), authenticating as ``auth`` says;
    ``attach_options`` go to what the component runs besides its responders (its reconciler)."""
    component = components.load(component_name)
    store = open_store(db_url)
    authenticator = auth.authenticator(component, store)
    if component.background is not None:
        scheduler = BackgroundScheduler(daemon=True)
        scheduler.add_job(component.background, "interval", seconds=component.background_interval, args=[store],
                          max_instances=1, coalesce=True, id=f"{component_name}-background")
        scheduler.start()
    app = create_app(model=component.model, store=store, hooks=component.hooks, authenticator=authenticator,
                     policy=component.policy, public_url=public_url, component=component_name)
    peers = components.Peers(publisher=publisher,
                             credentials=auth.service_credentials(own_url=own_url) if publisher else None)
    if component.routes is not None:
        component.routes(app, store, peers)
    if component.attach is not None:
        component.attach(store, peers, data=data, **(attach_options or {}))
    return app


def reconciler_options(args) -> dict:
    """The provisioning reconciler's options given on the command line (refused for another component)."""
    given = {key: value for key, value in (("interval", getattr(args, "reconcile_interval", None)),
                                           ("concurrency", getattr(args, "reconcile_concurrency", None)),
                                           ("lease_seconds", getattr(args, "lease", None))) if value is not None}
    if given and args.component != "provisioning":
        raise PlatformError(f"--reconcile-interval, --reconcile-concurrency and --lease are the provisioning "
                            f"component's; {args.component} has no reconciler")
    if given.get("concurrency") is not None and not 1 <= given["concurrency"] <= 256:
        raise PlatformError(f"--reconcile-concurrency must be 1 to 256, not {given['concurrency']}")
    return given


def published_kinds(component_name: str) -> list:
    """The kinds a component offers to the others (core kinds are everybody's)."""
    model = components.load(component_name).model
    return [k for k in model.kinds if k.location and k.scheme != CORE_SCHEME]


# gunicorn drops the application's Server header and sends its own name; OCCI (GFD.223 §5.3)
# requires "OCCI/1.2" in it. gunicorn has no setting for it, so we set the name it sends.
gunicorn.http.wsgi.SERVER = SERVER_HEADER


class _Gunicorn(BaseApplication):
    def __init__(self, factory, options: dict):
        self._factory = factory
        self._options = options
        super().__init__()

    def load_config(self):
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return self._factory()


def _keeper(args, auth: Auth, url: str) -> PublicationKeeper:
    publisher = PublisherClient(args.publisher, credentials=auth.service_credentials(own_url=url))
    return PublicationKeeper(publisher, identity=args.component, base_url=args.public_url or url,
                             kinds=published_kinds(args.component), zone=args.zone, operator=args.operator,
                             ttl=args.publish_ttl)


def _metrics_dir(data, args) -> tuple[str, int]:
    """A fresh directory for prometheus_client's multiprocess files (one per server: component,
    host and port), emptied now, and the descriptor of the lock that says it is in use.

    The lock (held by the master and inherited by the workers) keeps a second server on the
    same address from emptying the directory of a live one before it fails to bind.
    """
    name = re.sub(r"[^A-Za-z0-9.-]", "_", f"{args.component}-{args.host}-{args.port}")
    root = data / "metrics"
    root.mkdir(mode=0o700, exist_ok=True)
    lock = os.open(root / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        raise RuntimeError(f"another accords serve uses {root / name} (the same component, host and port)") from None
    directory = root / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700)
    return str(directory), lock


def _child_exit(server, worker) -> None:
    """gunicorn hook (master): a worker is gone; prometheus_client forgets its live gauges
    (its counts stay: a counter does not go down when a worker exits)."""
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def _gunicorn_logger(formatter: logging.Formatter) -> type:
    """gunicorn's logger with its error log in our formatter (``--log-format json``)."""
    class Logger(glogging.Logger):
        def setup(self, cfg):
            super().setup(cfg)
            for handler in self.error_log.handlers:
                handler.setFormatter(formatter)
    return Logger


def serve(args) -> int:
    try:
        component = components.load(args.component)
    except components.UnknownComponent as exc:
        print(f"accords serve: {exc}", file=sys.stderr)
        return 2
    try:
        attach_options = reconciler_options(args)
    except PlatformError as exc:
        print(f"accords serve: {exc}", file=sys.stderr)
        return 2
    data = settings.data_dir(args.data)
    db_url = settings.database_url(data, args.component, args.db)
    url = f"{'https' if args.certfile else 'http'}://{args.host}:{args.port}"
    store = open_store(db_url)           # migrate once, before the workers fork
    try:
        if component.bootstrap is not None and not args.insecure_no_auth:
            for what in component.bootstrap(store, data=data, services=components.names(), url=url):
                log.warning("first run: created %s", what)
    finally:
        store.close()
    try:
        auth = auth_for(args, component, data)
    except PlatformError as exc:
        print(f"accords serve: {exc}", file=sys.stderr)
        return 2
    try:
        metrics_dir, _lock = _metrics_dir(data, args)        # the lock is held as long as we run
    except RuntimeError as exc:
        print(f"accords serve: {exc}", file=sys.stderr)
        return 1
    # Set before gunicorn forks: every worker counts into files there, /metrics adds them up.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    formatter = logs.configure(log_format=args.log_format, component=args.component, access_log=args.access_log)
    info = {"component": args.component, "url": url, "db": _redact(db_url), "workers": args.workers,
            "auth": auth.describe()}
    if args.publisher:
        info["publisher"] = args.publisher
    if attach_options:
        info["reconciler"] = attach_options
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        print(f"accords {args.component}: {url}  (workers: {args.workers}, db: {info['db']}, auth: {info['auth']})",
              flush=True)
    if auth.mode == "open" and args.host not in ("127.0.0.1", "localhost", "::1"):
        print("warning: serving without authentication on a non-loopback address", file=sys.stderr)
    options = {
        "bind": f"{args.host}:{args.port}", "workers": args.workers, "worker_class": "gthread",
        "threads": args.threads, "keepalive": 5, "timeout": 60, "graceful_timeout": 10,
        "limit_request_line": 8190, "limit_request_fields": 200, "limit_request_field_size": 65536,
        # --access-log: our middleware writes the lines (with the request id), not gunicorn.
        "accesslog": None, "errorlog": "-", "loglevel": "warning", "child_exit": _child_exit,
        "proc_name": f"accords-{args.component}",
    }
    if args.log_format == "json":
        options["logger_class"] = _gunicorn_logger(formatter)
    if args.certfile:
        options.update(certfile=args.certfile, keyfile=args.keyfile)
    if args.publisher:
        # The master publishes once the workers listen, keeps the publications alive, withdraws at exit.
        keeper = _keeper(args, auth, url)
        options["when_ready"] = lambda server: keeper.start(
            wait_for=lambda: len(server.WORKERS) >= server.num_workers)
        options["on_exit"] = lambda server: keeper.stop()
    factory = lambda: build_app(args.component, db_url=db_url, auth=auth, public_url=args.public_url,  # noqa: E731
                                publisher=args.publisher, own_url=url, data=data, attach_options=attach_options)
    _Gunicorn(factory, options).run()
    return 0


def _redact(url: str) -> str:
    """A database URL without its password, for output."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url
