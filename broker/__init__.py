"""The broker: plans, services, contracts, provisioning, provider drivers and the ``accords`` CLI."""
