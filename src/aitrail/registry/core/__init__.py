"""Settings, database access and token security of the registry."""
