"""styrkort: balanced-scorecard analytics for Swedish municipal elderly care.

Data flows one way: ``warehouse`` (what is stored) -> ``pipelines`` (what is computed,
stored back as marts) -> ``dashboard`` (what is shown). This package holds only the CLI
and the small helpers all three share (paths, number formats).
"""
