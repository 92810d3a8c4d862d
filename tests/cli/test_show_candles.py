"""``quantdesk show candles``: a market's bars for scripts, from Drift's data API or
a simulated venue's history, as JSON in human units or a table."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from quantdesk import cli
from quantdesk.commands import show

FIXTURE = Path(__file__).parent.parent / "fixtures" / "drift" / "data_api_candles_sol_perp_60.json"
NOW = 1_795_003_330 * 1_000_000_000  # 2026-11-18 12:02:10 UTC
HOUR = 3_600 * 1_000_000_000


def run(capfd, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["show", "candles", *argv])
    out, err = capfd.readouterr()
    return code, out, err


def as_json(text: str):
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def test_a_simulated_venue_prints_its_history_up_to_now_one_bar_an_hour(capfd, monkeypatch):
    monkeypatch.setattr(show, "now_ns", lambda: NOW)
    code, out, err = run(capfd, "--venue", "sim-drift", "--market", "SOL-PERP", "--tf", "1h", "--limit", "6", "--json")
    assert code == 0, err
    d = as_json(out)
    assert (d["venue"], d["market"], d["timeframe"], d["source"]) == ("sim-drift", "SOL-PERP", "1h", "simulated")
    bars = d["candles"]
    this_hour = NOW - NOW % HOUR
    assert [b["ts"] for b in bars] == [this_hour - (5 - i) * HOUR for i in range(6)]  # consecutive, ending now
    for b in bars:
        assert set(b) == {"ts", "open", "high", "low", "close", "volume", "quote_volume"}
        assert b["low"] <= min(b["open"], b["close"]) <= max(b["open"], b["close"]) <= b["high"]
        assert 50 < b["low"] < 500 and (b["close"] * 10**6) % 1 == 0 and (b["volume"] * 10**9) % 1 == 0
    assert sum(b["volume"] for b in bars) > 0
    assert any(b["high"] > b["low"] for b in bars)
    again = run(capfd, "--venue", "sim-drift", "--market", "SOL-PERP", "--tf", "1h", "--limit", "6", "--json")[1]
    assert again == out  # the same seed and end: the same history


def test_the_table_names_the_bars_and_their_source(capfd, monkeypatch):
    monkeypatch.setattr(show, "now_ns", lambda: NOW)
    code, out, err = run(capfd, "--tf", "4h", "--limit", "3")
    assert code == 0, err
    assert "sim-drift SOL-PERP 4h candles (simulated history)" in out
    assert "Start (UTC)" in out and "Quote volume" in out
    assert "2026-11-18 12:00" in out and "2026-11-18 04:00" in out  # the bars' starts


def test_a_timeframe_that_is_not_one_says_which_are(capfd):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["show", "candles", "--tf", "2h"])
    assert exit_.value.code == 2
    assert "unknown timeframe '2h'; choose one of 1m, 5m, 15m, 1h, 4h, 1d" in capfd.readouterr().err


def test_drift_prints_the_data_apis_bars_exactly(capfd, tmp_path, data_api_thread):
    data_api = data_api_thread  # its own thread: the command runs an event loop of its own
    # Every host is the data API: the candles need nothing else, the book feed just retries meanwhile.
    url = data_api.url
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[venues.drift]\ndlob_url = "{url}"\ndlob_ws_url = "{data_api.ws_url}"\ndata_api_url = "{url}"\n'
        f'rpc_urls = ["{url}"]\nws_rpc_url = "{data_api.ws_url}"\ndiscover_markets = false\nslot_poll_s = 0\n'
        "http_timeout_s = 2.0\nbackoff_max_s = 0.2\n"
    )
    code, out, err = run(capfd, "--venue", "drift", "--market", "SOL-PERP", "--tf", "1h", "--limit", "3", "--json",
                         "--config", str(cfg))
    assert code == 0, err
    d = as_json(out)
    assert (d["venue"], d["source"]) == ("drift", "venue")
    newest = sorted(json.loads(FIXTURE.read_text(), parse_float=Decimal)["records"], key=lambda r: r["ts"])[-3:]
    assert [b["ts"] for b in d["candles"]] == [r["ts"] * 1_000_000_000 for r in newest]
    for bar, rec in zip(d["candles"], newest):
        assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (
            rec["fillOpen"], rec["fillHigh"], rec["fillLow"], rec["fillClose"])
        assert bar["volume"] == rec["baseVolume"]
        assert bar["quote_volume"] == rec["quoteVolume"].quantize(Decimal("0.000001"))
    assert ("/market/SOL-PERP/candles/60", {"limit": "3"}) in data_api.requests
