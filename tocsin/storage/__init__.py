"""SQLite on disk: connections, schemas and PRAGMAs in one place."""
