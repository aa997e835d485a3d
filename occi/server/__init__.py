"""The Falcon OCCI server."""
from occi.server.app import create_app
from occi.server.io import Limits

__all__ = ["create_app", "Limits"]
