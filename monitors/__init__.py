"""Monitoring: the OCCI monitoring model served by the ``monitors`` component; probes, controls and
notifications arrive with the SLA monitoring issue."""
