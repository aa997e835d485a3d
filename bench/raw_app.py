"""The baseline: a trivial Falcon app served by gunicorn exactly as ``accords serve`` is.

Routes answer static bodies of the sizes accords' own answers have (measured by the
benchmark before it starts this app), so that both servers move the same bytes:

* ``GET /-/``: the size of accords' text/plain query interface;
* ``GET /compute/{id}``: the size of one compute entity in text/plain;
* ``GET /compute/``: the size of the filtered listing (text/uri-list, or the JSON page);
* ``POST /compute/``: 201 with a Location and a body the size of accords' answer.

Run as ``python -m bench.raw_app --port P --workers 2 --threads 4 --root-bytes N ...``.
"""
from __future__ import annotations

import argparse
import uuid

import falcon

# Imported for its side effect too: the same Server header (gunicorn.http.wsgi.SERVER) as accords.
from broker.cli.serve import _Gunicorn

__all__ = ["make_app", "main"]


def _body(size: int) -> bytes:
    return (b"x" * 79 + b"\n") * (size // 80) + b"x" * (size % 80)


class _Static:
    def __init__(self, body: bytes, content_type: str = "text/plain"):
        self.body = body
        self.content_type = content_type

    def on_get(self, req, resp, **_):
        resp.content_type = self.content_type
        resp.data = self.body


class _Collection:
    def __init__(self, uri_list: bytes, json_page: bytes, created: bytes):
        self.uri_list = uri_list
        self.json_page = json_page
        self.created = created

    def on_get(self, req, resp):
        if "json" in (req.get_header("Accept") or ""):
            resp.content_type = "application/occi+json"
            resp.data = self.json_page
        else:
            resp.content_type = "text/uri-list"
            resp.data = self.uri_list

    def on_post(self, req, resp):
        req.bounded_stream.read()
        resp.status = falcon.HTTP_201
        resp.location = f"/compute/{uuid.uuid4()}"
        resp.content_type = "text/plain"
        resp.data = self.created


def make_app(*, root_bytes: int, entity_bytes: int, list_bytes: int, json_list_bytes: int,
             create_bytes: int) -> falcon.App:
    app = falcon.App()
    app.add_route("/-/", _Static(_body(root_bytes)))
    app.add_route("/compute/{ident}", _Static(_body(entity_bytes)))
    app.add_route("/compute/", _Collection(_body(list_bytes), _body(json_list_bytes), _body(create_bytes)))
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.raw_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    for name in ("root", "entity", "list", "json-list", "create"):
        parser.add_argument(f"--{name}-bytes", type=int, default=100)
    args = parser.parse_args(argv)
    from bench.servers import GUNICORN_OPTIONS

    options = {**GUNICORN_OPTIONS, "bind": f"{args.host}:{args.port}", "workers": args.workers,
               "threads": args.threads, "proc_name": "accords-bench-raw-falcon"}
    sizes = dict(root_bytes=args.root_bytes, entity_bytes=args.entity_bytes, list_bytes=args.list_bytes,
                 json_list_bytes=args.json_list_bytes, create_bytes=args.create_bytes)
    _Gunicorn(lambda: make_app(**sizes), options).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
