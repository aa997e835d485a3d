"""A Python client of OCCI 1.2 servers (GFD.223) in JSON, text/plain or text/occi.

One client for every component that talks to a category server, so that requests
are rendered and errors mapped in one place::

    from occi.client import OcciClient
    with OcciClient("http://localhost:8086", token=token) as occi:
        url = occi.create("http://schemas.ogf.org/occi/infrastructure#compute",
                          attributes={"occi.compute.cores": 2})
        occi.action(url, "start")

``request_id`` is the context variable holding the id of the request being served: a
server sets it around each request, and every client sends it as ``X-Request-Id``, so the
id follows a request from component to component. Set it yourself to tag a batch of calls.
"""
from occi.client.api import RENDERINGS, OcciClient
from occi.client.results import CategoryInfo, Discovery, Entity
from occi.client.transport import IDEMPOTENT, RETRY_STATUSES, Transport, error_from_response
from occi.logs import request_id

__all__ = ["OcciClient", "RENDERINGS", "Entity", "CategoryInfo", "Discovery", "Transport",
           "error_from_response", "IDEMPOTENT", "RETRY_STATUSES", "request_id"]
