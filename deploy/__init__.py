"""Deployment: offline bundles (``deploy.bundle``), the install script and the systemd units.

Imports ``glossary`` (signing) and the edge's error types only; the edge and the server never import it.
"""
