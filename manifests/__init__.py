"""The catalog of manifests and agreements shipped with accords, and the applications they deploy."""
