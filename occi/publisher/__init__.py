"""The publisher: the directory through which components find each other (CORDS.md §3.1).

Every component publishes the categories it serves at start-up, keeps its publications
alive with heartbeats and withdraws them at a clean stop; a publication whose heartbeats
stop expires. Clients resolve a category (optionally in a zone, from an operator) to the
base URL of a server for it.
"""
from occi.publisher.model import CATEGORIES, HEARTBEAT, PUBLICATION, SCHEME

__all__ = ["CATEGORIES", "HEARTBEAT", "PUBLICATION", "SCHEME"]
