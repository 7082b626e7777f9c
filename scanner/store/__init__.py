"""The store: SQLModel tables, the engine and Alembic migrations."""
