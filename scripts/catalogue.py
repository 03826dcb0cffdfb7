"""Maintain the text catalogue (styrkort/locale/{sv,en}/LC_MESSAGES/styrkort.po).

    python scripts/catalogue.py add KEY "svensk text" "English text"
    python scripts/catalogue.py add KEY "en rad" "one row" --plural "{n} rader" "{n} rows"
    python scripts/catalogue.py show KEY
    python scripts/catalogue.py sort          # rewrite both files in canonical (key) order

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
    args = p.parse_args(argv)
    if args.cmd == "add":
        texts = ((args.sv, args.plural[0]), (args.en, args.plural[1])) if args.plural else (args.sv, args.en)
        print("added" if add_entries({args.key: texts}, replace=args.replace) else "unchanged", args.key)
    elif args.cmd == "show":
        for lang in LANGS:
            print(f"{lang}: {catalogue(lang).get(args.key)!r}")
    elif args.cmd == "sort":
        for lang in LANGS:
            save(lang, load(lang))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
