"""The security component (accounts, users, tokens) and the authenticators every component uses."""
from occi.security.authenticators import (BasicCredentials, CredentialCache, LocalAuthenticator, RemoteAuthenticator,
                                          SecurityClient, ServiceCredentials)
from occi.security.model import ACCOUNT, AUTHORIZATION, PLATFORM_ACCOUNT, ROLES, USER

__all__ = ["ACCOUNT", "USER", "AUTHORIZATION", "ROLES", "PLATFORM_ACCOUNT", "CredentialCache", "LocalAuthenticator",
           "RemoteAuthenticator", "SecurityClient", "ServiceCredentials", "BasicCredentials"]
