"""CORDS manifests: category definitions, the manifest reader, Cordscript and the plan compiler.

Arrives with the CORDS issue; the package exists so the layout of ARCHITECTURE.md holds.
"""
