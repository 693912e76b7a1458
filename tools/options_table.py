"""Write the README's configuration table from the one options table (gate.cli.table).

    python tools/options_table.py          # rewrite README.md between the markers
    python tools/options_table.py --print  # print the table

tests/test_pipelines.py fails when README.md and the options table differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gate.cli.options import markdown_table
from gate.cli.table import OPTIONS

README = Path(__file__).parent.parent / "README.md"
START, END = "<!-- options:start -->\n", "<!-- options:end -->\n"


def main(argv: list[str]) -> int:
    table = markdown_table(OPTIONS)
    if "--print" in argv:
        print(table, end="")
        return 0
    text = README.read_text(encoding="utf-8")
    head, _old, tail = text.partition(START)
    _old_table, _end, rest = tail.partition(END)
    README.write_text(head + START + table + END + rest, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
