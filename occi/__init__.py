"""The OCCI 1.2 framework every accords component is built on.

Declare categories with :mod:`occi.model`, keep entities in :mod:`occi.store`, serve them
with :func:`occi.server.create_app` and talk to any OCCI server with :mod:`occi.client`.
"""
__version__ = "0.1.0"
