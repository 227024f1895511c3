"""Cells that spreadsheets open as text: a text cell a spreadsheet would run as a formula
(``=HYPERLINK(...)`` in an agent's or a customer's name) is written with a leading apostrophe, shown
as text; numbers stay numbers. Every CSV the product writes goes through here."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def unquote(cell: str) -> str:
    """A cell as it was before ``spreadsheet_safe`` protected it (an exported file imported again)."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell
