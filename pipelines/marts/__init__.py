"""Mart declarations (one TOML file per mart): see pipelines/marts/README.md."""
