"""Test doubles of cloud APIs that have no emulator: small servers on 127.0.0.1 that speak the
cloud's own protocol, so that drivers are tested over real HTTP (CLOUD-EMULATORS.md)."""
