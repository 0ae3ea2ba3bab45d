"""Storage: SQLAlchemy 2 (async) models, engine and migrations. Only repositories query it."""
