"""HTTP API of the central server."""
