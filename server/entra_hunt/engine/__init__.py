"""The embedded engine: the DuckDB store, the official schemas, export readers, demo data."""
