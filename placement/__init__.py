"""Placement: providers' offers, placement policies and quota reservations (the placement issue)."""
