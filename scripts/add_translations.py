"""Add or update entries of a catalog from 'msgid<TAB>msgstr' lines on stdin.

Usage: python scripts/add_translations.py mediation/locale/zh_CN/LC_MESSAGES/web.po < pairs.tsv
"""

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po


def main(path: str) -> None:
    po_path = Path(path)
    if po_path.exists():
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale="zh_CN")
    else:
        catalog = Catalog(locale="zh_CN", project="mediation", charset="utf-8")
    for line in sys.stdin.read().splitlines():
        if not line.strip() or "\t" not in line:
            continue
        msgid, msgstr = line.split("\t", 1)
        msgid = msgid.replace("\\n", "\n")
        msgstr = msgstr.replace("\\n", "\n")
        catalog.add(msgid, msgstr)
    po_path.parent.mkdir(parents=True, exist_ok=True)
    with po_path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=True, omit_header=False)


if __name__ == "__main__":
    main(sys.argv[1])
