"""The warehouse: what is stored. Schema (schema/*.sql), loaders for the embedded sources
(sources/, see PROVENANCE.md), demo data, and importers for users' own data."""
