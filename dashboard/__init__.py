"""The dashboard: what is shown. Reads the public views through one read-only connection."""
