"""pyone's XML-RPC client for the ``opennebula`` driver, with a transport that has timeouts.

pyone gives the protocol: the ``one.`` prefix, the session ``"user:password"`` as first parameter,
dicts cast to templates, and replies' XML bound to objects. Its transport is replaced: pyone's own
``timeout`` calls ``socket.setdefaulttimeout`` for the whole process, and its requests transport
passes no timeout at all, so a silent server hangs the call. ``_do_request`` is the hook pyone's own
tester (``pyone/tester.py``) overrides; here it posts with a ``requests.Session`` and (connect, read)
timeouts, and raises :class:`RpcFailed` for oned's ``[False, message, code]`` replies before pyone
maps them, so that the driver sees the code itself.
"""
from __future__ import annotations

import xmlrpc.client
from xml.parsers.expat import ExpatError

import requests
from pyone.server_xrpc import OneServerXRPC

__all__ = ["OneServer", "RpcFailed", "AUTHENTICATION", "AUTHORIZATION", "NO_EXISTS", "ACTION", "RPC_API", "INTERNAL",
           "ALLOCATE", "LOCKED"]

#: oned's error codes (include/Request.h).
AUTHENTICATION, AUTHORIZATION, NO_EXISTS, ACTION = 0x0100, 0x0200, 0x0400, 0x0800
RPC_API, INTERNAL, ALLOCATE, LOCKED = 0x1000, 0x2000, 0x4000, 0x8000


class RpcFailed(Exception):
    """What went wrong below pyone: oned's [False, message, code], an HTTP error, a fault, no answer."""

    def __init__(self, kind: str, message: str, code: int = 0):
        super().__init__(message)
        self.kind, self.message, self.code = kind, message, code


class OneServer(OneServerXRPC):
    """pyone's client posting through ``http`` with ``timeout`` (connect, read) on every call."""

    def __init__(self, uri: str, session: str, *, http: requests.Session, timeout: tuple[float, float]):
        super().__init__(uri, session)
        self._accords = (uri, http, timeout)

    def _do_request(self, method: str, params: tuple) -> list:
        uri, http, timeout = self._accords
        body = xmlrpc.client.dumps(params, method, encoding="utf-8").encode()
        try:
            answer = http.post(uri, data=body, headers={"Content-Type": "text/xml"}, timeout=timeout)
        except requests.Timeout as exc:
            raise RpcFailed("unavailable", f"no answer in time ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise RpcFailed("unavailable", f"cannot reach it ({type(exc).__name__})") from None
        if answer.status_code != 200:
            transient = answer.status_code >= 500 or answer.status_code in (408, 429)
            raise RpcFailed("unavailable" if transient else "refused", f"HTTP {answer.status_code} "
                            f"{answer.reason}: {' '.join(answer.text.split())[:200]}")
        try:
            (reply,), _ = xmlrpc.client.loads(answer.content)
        except xmlrpc.client.Fault as fault:     # an unknown method or a parameter of the wrong type
            raise RpcFailed("refused", f"XML-RPC fault {fault.faultCode}: {fault.faultString}") from None
        except (ExpatError, ValueError) as exc:
            raise RpcFailed("unavailable", f"unreadable answer ({exc})") from None
        if not isinstance(reply, list) or len(reply) < 3:
            raise RpcFailed("unavailable", f"unexpected answer {str(reply)[:100]!r}")
        if not reply[0]:
            raise RpcFailed("one", str(reply[1]), int(reply[2]))
        return reply
