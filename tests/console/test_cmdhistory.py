from quantdesk.console.cmdhistory import CommandHistory


def test_history_persists_dedupes_and_is_bounded(tmp_path):
    path = tmp_path / "sub" / "history"
    h = CommandHistory(path, max_size=3)
    for c in ["SOL-PERP DEPTH", "THEME amber", "  SOL-PERP   DEPTH ", "", "LAYOUT carry", "KILL"]:
        h.add(c)
    # The repeated command moved to the newest place, so the oldest dropped was THEME.
    assert h.entries == ["SOL-PERP DEPTH", "LAYOUT carry", "KILL"]
    again = CommandHistory(path, max_size=3)
    assert again.entries == h.entries
    assert again.entries[-1] == "KILL"


def test_duplicate_moves_to_newest(tmp_path):
    h = CommandHistory(tmp_path / "h")
    for c in ["A", "B", "A"]:
        h.add(c)
    assert h.entries == ["B", "A"]


def test_cursor_walks_with_prefix(tmp_path):
    h = CommandHistory(tmp_path / "h")
    for c in ["SOL-PERP DEPTH", "THEME amber", "SOL-PERP BUY 1 MKT"]:
        h.add(c)
    cur = h.cursor()
    assert cur.older("SOL") == "SOL-PERP BUY 1 MKT"
    assert cur.older("x") == "SOL-PERP DEPTH"
    assert cur.older("x") == "x"  # nothing older: unchanged
    assert cur.newer("SOL-PERP DEPTH") == "SOL-PERP BUY 1 MKT"
    assert cur.newer("SOL-PERP BUY 1 MKT") == "SOL"  # back to the draft


def test_unreadable_history_starts_empty(tmp_path):
    p = tmp_path / "h"
    p.write_bytes(b"\xff\xfe\x00bad")
    assert CommandHistory(p).entries == []


def test_history_in_memory_only_touches_no_file(tmp_path):
    path = tmp_path / "h"
    path.write_text("OLD\n")
    h = CommandHistory(path, persist=False)
    h.add("THEME amber")
    assert h.entries == ["THEME amber"]
    assert path.read_text() == "OLD\n"
