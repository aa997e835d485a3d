"""Service level agreements: the OCCI SLA extension (GFD.228) served by the ``sla`` component.

CORDS agreements, guarantees, penalties and compliance arrive with the SLA issues.
"""
