"""Composite index, size-group ranks, the 15/15 selection and rank uncertainty.

- config.py       the index configuration (TOML) and its canonical, hashed form
- index.py        the composite index as pure functions (completeness, normalisation, ranks)
- selection.py    the 15 high / 15 low selection, county spread and swaps (pure)
- uncertainty.py  Monte Carlo rank uncertainty (pure, vectorised)
- pipeline.py     the warehouse side: reads public views, stores the marts declared in
                  pipelines/marts/ (composite_index, selections, rank_uncertainty, …)

This file imports nothing, so importing one module of the package loads only what it needs.
"""
