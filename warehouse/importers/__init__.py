"""Importers for users' own data: Kolada files (CSV/Excel/JSON), long indicator CSVs, grant
award tables, and the grant seeds of the embedded default. Every importer works inside the
caller's transaction and raises `ImportFailure` (file, line, problem) on bad input."""
from warehouse.importers.common import ImportFailure, ImportSummary

__all__ = ["ImportFailure", "ImportSummary"]
