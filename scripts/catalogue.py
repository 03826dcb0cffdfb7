"""Maintain the text catalogue (styrkort/locale/{sv,en}/LC_MESSAGES/styrkort.po).

    python scripts/catalogue.py add KEY "svensk text" "English text"
    python scripts/catalogue.py add KEY "en rad" "one row" --plural "{n} rader" "{n} rows"
    python scripts/catalogue.py show KEY
    python scripts/catalogue.py sort          # rewrite both files in canonical (key) order
    python scripts/catalogue.py resolve       # after a git merge/rebase conflict in the .po files

Editing the two .po files by hand is just as fine (see styrkort/i18n.py); this only saves
typing and keeps both files in key order. Refuses a key that exists unless --replace.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from babel.messages.catalog import Catalog  # noqa: E402
from babel.messages.pofile import read_po, write_po  # noqa: E402

from styrkort.i18n import DOMAIN, LANGS, catalogue, po_path  # noqa: E402

HEADER = {
    "sv": "Styrkort för äldreomsorgen: svenska texter (symboliska nycklar).\n"
          "Varje nyckel finns också i ../../en/LC_MESSAGES/styrkort.po. Se styrkort/i18n.py.",
    "en": "Scorecards for elderly care: English texts (symbolic keys).\n"
          "Every key is also in ../../sv/LC_MESSAGES/styrkort.po. See styrkort/i18n.py.",
}


def load(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN, project="styrkort", version="1",
                       header_comment="# " + HEADER[lang].replace("\n", "\n# "), fuzzy=False)
    with open(path, "rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def save(lang: str, cat: Catalog) -> None:
    cat.msgid_bugs_address = ""
    cat.last_translator = "styrkort"
    cat.language_team = {"sv": "svenska", "en": "English"}[lang]
    cat.revision_date = cat.creation_date  # no date churn: git records when a text changed
    buf = io.BytesIO()
    write_po(buf, cat, width=0, sort_output=True, no_location=True)
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    catalogue.cache_clear()


def add_entries(entries: dict, replace: bool = False) -> list[str]:
    """entries: {key: (sv, en)} or {key: ((sv_one, sv_other), (en_one, en_other))}.
    Returns the keys added. Raises on an existing key with a different text unless replace."""
    cats = {lang: load(lang) for lang in LANGS}
    added = []
    for key, texts in entries.items():
        for lang, text in zip(LANGS, texts):
            cat = cats[lang]
            plural = isinstance(text, (tuple, list))
            msgid = (key, key) if plural else key
            old = cat.get(key)
            if old is not None and not replace:
                old_text = tuple(old.string) if isinstance(old.string, (list, tuple)) else old.string
                if old_text != (tuple(text) if plural else text):
                    raise SystemExit(f"{key} ({lang}) exists with another text: {old_text!r}")
                continue
            if old is not None:
                del cat[key]
            cat.add(msgid, tuple(text) if plural else text)
            if lang == LANGS[0]:
                added.append(key)
    for lang, cat in cats.items():
        save(lang, cat)
    return added


def _read_stage(rel: str, stage: int, lang: str) -> Catalog | None:
    """One side of a conflicted file (1 base, 2 ours, 3 theirs) from git's index."""
    import subprocess

    out = subprocess.run(["git", "show", f":{stage}:{rel}"], capture_output=True, cwd=po_path(lang).parents[4])
    if out.returncode != 0:
        return None
    return read_po(io.BytesIO(out.stdout), locale=lang, domain=DOMAIN)


def _entries(cat: Catalog | None) -> dict:
    return {m.id: m for m in cat if m.id} if cat is not None else {}


def resolve() -> list[str]:
    """Three-way merge of conflicted .po files, entry by entry: keys added on either side are
    kept; a key changed on one side takes that side's text; a key changed differently on both
    sides is reported (and the file left alone). Returns the problems."""
    root = po_path("sv").parents[4]
    problems = []
    for lang in LANGS:
        rel = po_path(lang).relative_to(root).as_posix()
        if "<<<<<<<" not in po_path(lang).read_text("utf-8"):
            continue
        header = _read_stage(rel, 2, lang)
        base, ours, theirs = (_entries(_read_stage(rel, i, lang)) for i in (1, 2, 3))
        merged = {}
        for key in sorted(set(ours) | set(theirs), key=lambda k: k if isinstance(k, str) else k[0]):
            o, t_, b = ours.get(key), theirs.get(key), base.get(key)
            text = lambda m: None if m is None else m.string  # noqa: E731
            if o is None or t_ is None:
                deleted = b is not None and (o is None or t_ is None)
                if deleted and text(o or t_) == text(b):
                    continue   # deleted on one side, unchanged on the other
                merged[key] = o or t_
            elif text(o) == text(t_) or text(t_) == text(b):
                merged[key] = o
            elif text(o) == text(b):
                merged[key] = t_
            else:
                problems.append(f"{lang} {key}: ours {text(o)!r} / theirs {text(t_)!r}")
        if any(p.startswith(lang + " ") for p in problems):
            continue
        for m in list(header):
            if m.id:
                del header[m.id]
        for m in merged.values():
            header[m.id] = m
        save(lang, header)
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add")
    a.add_argument("key")
    a.add_argument("sv")
    a.add_argument("en")
    a.add_argument("--plural", nargs=2, metavar=("SV_OTHER", "EN_OTHER"))
    a.add_argument("--replace", action="store_true")
    s = sub.add_parser("show")
    s.add_argument("key")
    sub.add_parser("sort")
    sub.add_parser("resolve")
    args = p.parse_args(argv)
    if args.cmd == "add":
        texts = ((args.sv, args.plural[0]), (args.en, args.plural[1])) if args.plural else (args.sv, args.en)
        print("added" if add_entries({args.key: texts}, replace=args.replace) else "unchanged", args.key)
    elif args.cmd == "show":
        for lang in LANGS:
            print(f"{lang}: {catalogue(lang).get(args.key)!r}")
    elif args.cmd == "resolve":
        problems = resolve()
        for p in problems:
            print("conflict:", p)
        return 1 if problems else 0
    elif args.cmd == "sort":
        for lang in LANGS:
            save(lang, load(lang))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
