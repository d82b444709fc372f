"""Cells a spreadsheet will not run: the one rule every CSV the shop writes follows (CSV injection).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is a formula to Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)`` leaks data,
``=cmd|...`` ran programs). As OWASP advises, such a cell gets a single quote in
front, which makes it text. Two choices beyond OWASP's list:

- Leading whitespace does not hide a trigger (`` =1+1``): LibreOffice's "trim
  spaces" import option and Google Sheets strip it before deciding.
- Fullwidth and small forms (``＝``, ``﹢``, ...) count, by their NFKC form: a
  spreadsheet in an East Asian locale may fold them to ASCII.

Numbers are never touched: a value that is not text (an int, a float, a Decimal) is
written as it is, so ``-5`` in a numeric column stays a number.

Reading back is exact: ``unguard`` removes the quote only where ``guard`` would have
added it. A text that already starts with a quote followed by a trigger
(``'=x``) is guarded too (``''=x``), so the two never collide: guard is one-to-one
and ``unguard(guard(text)) == text`` for every text.
"""

import csv
import unicodedata
from typing import IO, Any

GUARD = "'"
FORMULA_TRIGGERS = frozenset("=+-@\t\r")


def guard(value: Any) -> Any:
    """The value as a spreadsheet-safe cell: text that a spreadsheet would run gets a leading quote."""
    if isinstance(value, str) and _needs_guard(value):
        return GUARD + value
    return value


def unguard(cell: str) -> str:
    """The text ``guard`` was given: drop the leading quote only where ``guard`` would have added it."""
    if cell.startswith(GUARD) and _needs_guard(cell[1:]):
        return cell[1:]
    return cell


def _needs_guard(text: str) -> bool:
    """True for text a spreadsheet reads as a formula, or such text behind quotes (it would look guarded)."""
    text = text.lstrip(GUARD)
    # Tab and CR are triggers themselves, so they are checked before whitespace is skipped.
    if text and _is_trigger(text[0]):
        return True
    rest = text.lstrip()
    return bool(rest) and _is_trigger(rest[0])


def _is_trigger(char: str) -> bool:
    """True for a formula trigger or a compatibility form of one (fullwidth ＝)."""
    return char in FORMULA_TRIGGERS or unicodedata.normalize("NFKC", char) in FORMULA_TRIGGERS


class SafeWriter:
    """``csv.writer`` that guards every text cell and quotes it; numbers are written bare.

    Quoting every text keeps a cell like ``a;=1+1`` whole when a spreadsheet in a
    locale whose list separator is ``;`` opens the file.
    """

    def __init__(self, stream: IO[str]):
        self._writer = csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, cells) -> None:
        """Write one row of guarded cells."""
        self._writer.writerow([guard(cell) for cell in cells])
