"""Protocol rules every response follows (GFD.223 §5): Server, Accept, versions, header limits."""
from __future__ import annotations

import re

import falcon

from occi.errors import HeadersTooLarge, NotImplementedByServer
from occi.rendering.negotiation import ACCEPT_HEADER

__all__ = ["ProtocolMiddleware", "SERVER_HEADER", "OCCI_VERSION"]

OCCI_VERSION = (1, 2)
SERVER_HEADER = "accords/0.1 OCCI/1.2"
_VERSION = re.compile(r"OCCI/(\d+)\.(\d+)", re.IGNORECASE)


class ProtocolMiddleware:
    def __init__(self, *, max_header_bytes: int):
        self.max_header_bytes = max_header_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        size = sum(len(k) + len(v) for k, v in req.env.items() if k.startswith("HTTP_") and isinstance(v, str))
        if size > self.max_header_bytes:
            raise HeadersTooLarge(f"the request headers total {size} bytes; at most {self.max_header_bytes} are "
                                  "accepted (send large structures in a text/plain or JSON body)", where="headers")
        agent = req.user_agent
        if agent:
            for major, minor in _VERSION.findall(agent):
                if (int(major), int(minor)) > OCCI_VERSION:
                    raise NotImplementedByServer(
                        f"this server speaks OCCI/1.2; the client asked for OCCI/{major}.{minor}",
                        code="occi-version", where="User-Agent")

    def process_response(self, req, resp, resource, req_succeeded: bool) -> None:
        resp.set_header("Server", SERVER_HEADER)
        resp.set_header("Accept", ACCEPT_HEADER)
