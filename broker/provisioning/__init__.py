"""The provisioning component: contracts and the OGF infrastructure face of the broker."""
