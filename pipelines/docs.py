"""ARCHITECTURE.md's mart tables, generated from the declarations (pipelines/marts/*.toml):
`styrkort marts docs --write` rewrites the part between the markers; a test fails when the
committed file differs from what the declarations give."""
from __future__ import annotations

from pathlib import Path

BEGIN = "<!-- BEGIN GENERATED FROM pipelines/marts/*.toml: `styrkort marts docs --write` -->"
END = "<!-- END GENERATED -->"


def architecture_path() -> Path:
    from styrkort.paths import REPO_ROOT

    return REPO_ROOT / "ARCHITECTURE.md"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _tests(c) -> str:
    out = []
    if c.not_null:
        out.append("not null")
    if c.accepted_values:
        out.append("in " + ", ".join(f"`{v}`" for v in c.accepted_values))
    if c.min is not None and c.max is not None:
        out.append(f"{c.min:g}–{c.max:g}")
    elif c.min is not None:
        out.append(f"≥ {c.min:g}")
    elif c.max is not None:
        out.append(f"≤ {c.max:g}")
    if c.relationship:
        out.append(f"in `{c.relationship}`")
    if c.volatile:
        out.append("differs between identical runs")
    return "; ".join(out)


def mart_tables() -> str:
    """The generated markdown (pure: from the declarations only)."""
    from pipelines.core import declarations
    from pipelines.steps import STEPS

    decls = sorted(declarations().values(), key=lambda d: (STEPS.index(d.step) if d.step in STEPS else 99, d.name))
    lines = [BEGIN, "",
             "### Marts and who reads them", "",
             "Every mart is declared once in `pipelines/marts/<mart>.toml` (columns, types, meaning, tests)."
             " Table `mart_<mart>` holds every run; view `<mart>` the default run's rows; view `<mart>_all`"
             " every run. Each row carries `run_id`, `config_hash` and `is_default`. Unique key = scope +"
             " key within a run.", "",
             "| view | step | scope + key | what | shown on |", "|---|---|---|---|---|"]
    for d in decls:
        key = ", ".join((*d.scope, *d.key))
        lines.append(f"| `{d.name}` | {d.step} | {key} | {_cell(d.description)} | {_cell('; '.join(d.pages))} |")
    pages: dict[str, list[str]] = {}
    for d in decls:
        for p in d.pages:
            page = p.split(" (")[0]
            pages.setdefault(page, []).append(f"`{d.name}`" + (f" ({p.split(' (', 1)[1]}" if " (" in p else ""))
    lines += ["", "### Which page reads which mart", "", "| page | marts |", "|---|---|"]
    for page in sorted(pages):
        lines.append(f"| {_cell(page)} | {_cell(', '.join(pages[page]))} |")
    lines += ["", "### Columns", ""]
    for d in decls:
        lines += [f"#### `{d.name}` ({d.step}; reads {', '.join(f'`{r}`' for r in d.reads) or '–'})", "",
                  "| column | type | meaning | tests |", "|---|---|---|---|"]
        for c in d.columns:
            lines.append(f"| `{c.name}` | {c.type} | {_cell(c.description)} | {_cell(_tests(c))} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


def render(text: str) -> str:
    """`text` (ARCHITECTURE.md) with the generated part replaced (or appended)."""
    block = mart_tables()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return head + block.rstrip("\n") + tail
    return text.rstrip("\n") + "\n\n" + block


def update_architecture(path: Path | None = None) -> bool:
    """Rewrite the generated part of ARCHITECTURE.md; True if the file changed."""
    path = Path(path or architecture_path())
    old = path.read_text(encoding="utf-8")
    new = render(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old
