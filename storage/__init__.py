"""Storage: SQLModel tables, the async engine, repositories and the vector index."""
