"""Server core: settings, database, security."""
