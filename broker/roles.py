"""Role names for the components' access policies.

The security component defines the roles a user may hold (:data:`occi.security.model.ROLES`);
these constants name the same strings, so that a policy cannot mention a role no user can
have: :func:`roles` refuses unknown names when the policy is declared, not when a request
is silently refused.
"""
from __future__ import annotations

from occi.security.model import ROLES

__all__ = ["ADMIN", "PROVIDER", "CCMP", "AUDITOR", "OPERATOR", "AGENT", "SERVICE", "EVERY_ROLE", "roles"]

ADMIN = "admin"          # everything, everywhere (occi.access grants it without asking the policy)
PROVIDER = "provider"    # submits manifests
CCMP = "ccmp"            # requests workloads on behalf of clinical users
AUDITOR = "auditor"      # reads agreements and compliance, changes nothing
OPERATOR = "operator"    # runs providers and quotas
AGENT = "agent"          # node agents reporting measurements
SERVICE = "service"      # the components themselves, calling each other

EVERY_ROLE = frozenset(ROLES)


def roles(*names: str) -> frozenset[str]:
    """The set of ``names``, each of which must be a role of :data:`occi.security.model.ROLES`."""
    unknown = [name for name in names if name not in EVERY_ROLE]
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    return frozenset(names)


# The constants above must stay the security model's names (a renamed role would otherwise
# leave policies granting something nobody holds).
roles(ADMIN, PROVIDER, CCMP, AUDITOR, OPERATOR, AGENT, SERVICE)
