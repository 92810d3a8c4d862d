"""``quantdesk inspect drift``: every real mainnet account decodes, and the
normalized values match figures read straight from the raw bytes.

The expected figures are computed here with ``struct`` at the byte offsets of
the Drift v2 account layouts (discriminator included), independent of the IDL
decoder under test.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import struct
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import base58
import pytest

from quantdesk.commands import inspect as inspect_cmd

FIXTURES = Path(__file__).parent.parent / "fixtures" / "drift" / "mainnet_accounts.jsonl"
LINES = [json.loads(line) for line in FIXTURES.read_text().splitlines() if line.strip()]


def _i64(b: bytes, off: int) -> int:
    return struct.unpack_from("<q", b, off)[0]


def _u64(b: bytes, off: int) -> int:
    return struct.unpack_from("<Q", b, off)[0]


def _i128(b: bytes, off: int) -> int:
    return int.from_bytes(b[off : off + 16], "little", signed=True)


def _u128(b: bytes, off: int) -> int:
    return int.from_bytes(b[off : off + 16], "little", signed=False)


def _u16(b: bytes, off: int) -> int:
    return struct.unpack_from("<H", b, off)[0]


def _pubkey(b: bytes, off: int) -> str:
    return base58.b58encode(b[off : off + 32]).decode()


def _name(b: bytes, off: int) -> str:
    return b[off : off + 32].decode().rstrip(" ")


@pytest.fixture(autouse=True)
def empty_config(tmp_path, monkeypatch):
    """Keep a config file on this machine out of these tests."""
    cfg = tmp_path / "empty-config.toml"
    cfg.write_text("")
    monkeypatch.setenv("QUANTDESK_CONFIG", str(cfg))


def run_inspect(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="quantdesk inspect")
    inspect_cmd.add_arguments(parser)
    args = parser.parse_args(list(argv))
    code = inspect_cmd.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def inspect_json(capsys, account: str, b64: str, *extra: str) -> dict:
    code, out, err = run_inspect(capsys, "drift", account, "--b64", b64, "--json", *extra)
    assert code == 0, err
    return json.loads(out, parse_float=Decimal)


# -- expected figures from raw bytes ----------------------------------------------


def expected_perp_market(b: bytes) -> dict:
    # PerpMarket: pubkey@8, amm@40 (oracle@40, historical_oracle_data@72:
    # last_oracle_price i64@72, last_oracle_price_twap i64@96),
    # base_asset_amount_long i128@304, _short i128@320, last_funding_rate i64@480,
    # funding_period i64@800, name@1000, market_index u16@1160.
    price = _i64(b, 72)
    twap = _i64(b, 96)
    rate = _i64(b, 480)
    period = _i64(b, 800)
    pct = Fraction(rate, 10**9) / Fraction(twap, 10**6) * 100 * Fraction(3600, period)
    return {
        "pubkey": _pubkey(b, 8),
        "market_index": _u16(b, 1160),
        "name": _name(b, 1000),
        "oracle_price": Fraction(price, 10**6),
        "open_interest_long": Fraction(abs(_i128(b, 304)), 10**9),
        "open_interest_short": Fraction(abs(_i128(b, 320)), 10**9),
        "funding_rate_hourly_pct": pct,
        "funding_period_s": period,
    }


def expected_user(b: bytes) -> dict:
    # User: authority@8, name@72, perp_positions@424 (8 x 96 bytes: base i64@+8,
    # quote_entry i64@+32, market_index u16@+92), orders@1192 (32 x 96 bytes:
    # status u8@+82, 1 = Open), sub_account_id u16@4346.
    positions = []
    for i in range(8):
        p = 424 + 96 * i
        base = _i64(b, p + 8)
        if base:
            positions.append((_u16(b, p + 92), Fraction(base, 10**9), Fraction(_i64(b, p + 32), 10**6)))
    open_orders = sum(1 for i in range(32) if b[1192 + 96 * i + 82] == 1)
    return {
        "authority": _pubkey(b, 8),
        "sub_account_id": _u16(b, 4346),
        "name": _name(b, 72),
        "perp_positions": positions,
        "open_orders": open_orders,
    }


def expected_spot_market(b: bytes) -> dict:
    # SpotMarket: pubkey@8, mint@72, name@136, last_oracle_price i64@168,
    # deposit_balance u128@432, borrow_balance u128@448, cumulative deposit/borrow
    # interest u128@464/@480, decimals u32@680, market_index u16@684.
    return {
        "pubkey": _pubkey(b, 8),
        "mint": _pubkey(b, 72),
        "name": _name(b, 136),
        "oracle_price": Fraction(_i64(b, 168), 10**6),
        "total_deposits": Fraction(_u128(b, 432) * _u128(b, 464), 10**19),
        "total_borrows": Fraction(_u128(b, 448) * _u128(b, 480), 10**19),
        "decimals": struct.unpack_from("<I", b, 680)[0],
        "market_index": _u16(b, 684),
    }


def expected_user_stats(b: bytes) -> dict:
    # UserStats: authority@8, referrer@40, fees.total_fee_paid u64@72,
    # maker/taker volume 30d u64@128/@136, number_of_sub_accounts u16@184.
    return {
        "authority": _pubkey(b, 8),
        "referrer": _pubkey(b, 40),
        "total_fee_paid": Fraction(_u64(b, 72), 10**6),
        "maker_volume_30d": Fraction(_u64(b, 128), 10**6),
        "taker_volume_30d": Fraction(_u64(b, 136), 10**6),
        "number_of_sub_accounts": _u16(b, 184),
    }


def _ids(lines):
    return [f"{n}-{line['account']}" for n, line in enumerate(lines)]


@pytest.mark.parametrize("line", LINES, ids=_ids(LINES))
def test_every_fixture_account_decodes_to_hand_derived_figures(capsys, line):
    raw = base64.b64decode(line["data_b64"])
    kind = line["account"]
    got = inspect_json(capsys, kind, line["data_b64"])
    assert got["account"] == kind
    if kind == "PerpMarket":
        exp = expected_perp_market(raw)
        for key in ("pubkey", "market_index", "name", "funding_period_s"):
            assert got[key] == exp[key], key
        for key in ("oracle_price", "open_interest_long", "open_interest_short"):
            assert Fraction(got[key]) == exp[key], key
        assert got["open_interest_long"] >= 0 and got["open_interest_short"] >= 0
        assert abs(Fraction(got["funding_rate_hourly_pct"]) - exp["funding_rate_hourly_pct"]) <= Fraction(1, 10**12)
    elif kind == "User":
        exp = expected_user(raw)
        for key in ("authority", "sub_account_id", "name", "open_orders"):
            assert got[key] == exp[key], key
        got_pos = [(p["market_index"], Fraction(p["base"]), Fraction(p["quote_entry"])) for p in got["perp_positions"]]
        assert got_pos == exp["perp_positions"]
    elif kind == "SpotMarket":
        exp = expected_spot_market(raw)
        for key in ("pubkey", "mint", "name", "decimals", "market_index"):
            assert got[key] == exp[key], key
        for key in ("oracle_price", "total_deposits", "total_borrows"):
            assert Fraction(got[key]) == exp[key], key
    elif kind == "UserStats":
        exp = expected_user_stats(raw)
        for key in ("authority", "referrer", "number_of_sub_accounts"):
            assert got[key] == exp[key], key
        for key in ("total_fee_paid", "maker_volume_30d", "taker_volume_30d"):
            assert Fraction(got[key]) == exp[key], key
    else:  # pragma: no cover - the fixture holds only these four types
        pytest.fail(f"unexpected account type {kind}")


def test_fixtures_cover_every_account_type_and_real_positions():
    kinds = {line["account"] for line in LINES}
    assert kinds == {"PerpMarket", "SpotMarket", "User", "UserStats"}
    users = [expected_user(base64.b64decode(line["data_b64"])) for line in LINES if line["account"] == "User"]
    assert any(u["perp_positions"] for u in users)
    assert any(u["open_orders"] for u in users)


def test_known_wif_perp_market_values(capsys):
    line = next(line for line in LINES if line["account"] == "PerpMarket")
    got = inspect_json(capsys, "PerpMarket", line["data_b64"])
    # Read off the account by hand: last_oracle_price 456435, twap 453216,
    # last_funding_rate 5583 (1e9), OI long 2055131e9, short -2054846e9.
    assert got["name"] == "WIF-PERP" and got["market_index"] == 23
    assert got["oracle_price"] == Decimal("0.456435")
    assert got["open_interest_long"] == Decimal("2055131")
    assert got["open_interest_short"] == Decimal("2054846")
    assert got["funding_rate_hourly_pct"] == Decimal("0.001231862953")  # 5583e-9 / 0.453216 * 100
    assert got["funding_period_s"] == 3600


def test_auto_detects_type_by_discriminator(capsys):
    by_kind = {line["account"]: line for line in LINES}
    for kind, line in by_kind.items():
        assert inspect_json(capsys, "auto", line["data_b64"])["account"] == kind


def test_type_name_spellings(capsys):
    line = next(line for line in LINES if line["account"] == "UserStats")
    for spelling in ("UserStats", "user_stats", "user-stats"):
        assert inspect_json(capsys, spelling, line["data_b64"])["account"] == "UserStats"


def test_file_with_base64_raw_bytes_or_fixture_lines(capsys, tmp_path):
    perp = next(line for line in LINES if line["account"] == "PerpMarket")
    raw = base64.b64decode(perp["data_b64"])
    b64_file = tmp_path / "a.b64"
    b64_file.write_text(perp["data_b64"] + "\n")
    raw_file = tmp_path / "a.bin"
    raw_file.write_bytes(raw)
    line_file = tmp_path / "a.jsonl"
    line_file.write_text(json.dumps(perp) + "\n")
    rpc_file = tmp_path / "rpc.json"
    rpc_file.write_text(json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"context": {"slot": 1}, "value": {
        "data": [perp["data_b64"], "base64"], "owner": "dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH"}}}))
    outs = []
    for f in (b64_file, raw_file, line_file, rpc_file):
        code, out, err = run_inspect(capsys, "drift", "PerpMarket", "--file", str(f), "--json")
        assert code == 0, err
        outs.append(json.loads(out))
    assert all(o == outs[0] for o in outs)
    assert outs[0]["name"] == "WIF-PERP"


def test_whole_fixture_file_prints_one_object_per_account(capsys):
    code, out, err = run_inspect(capsys, "drift", "auto", "--file", str(FIXTURES), "--json")
    assert code == 0, err
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["account"] for r in rows] == [line["account"] for line in LINES]


def test_human_output_without_json(capsys):
    user = next(line for line in LINES if line["account"] == "User"
                and expected_user(base64.b64decode(line["data_b64"]))["perp_positions"])
    code, out, err = run_inspect(capsys, "drift", "User", "--b64", user["data_b64"])
    assert code == 0, err
    assert "authority: " in out and "perp_positions:" in out and "market_index: " in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["PerpMarket", "--b64", "not base64!!"], "not valid base64"),
        (["PerpMarket", "--b64", base64.b64encode(b"\x01\x02\x03").decode()], "too short"),
        (["auto", "--b64", base64.b64encode(b"\xff" * 1216).decode()], "unknown discriminator"),
        (["Nope", "--b64", LINES[0]["data_b64"]], "unknown account type"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(capsys, argv, needle):
    code, out, err = run_inspect(capsys, "drift", *argv)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err and out == ""


def test_wrong_length_and_wrong_type(capsys):
    perp = next(line for line in LINES if line["account"] == "PerpMarket")
    raw = base64.b64decode(perp["data_b64"])
    for data, needle in (
        (raw[:-100], "too short for a PerpMarket"),
        (raw + b"\x00" * 16, "wrong length for a PerpMarket"),
    ):
        code, _, err = run_inspect(capsys, "drift", "PerpMarket", "--b64", base64.b64encode(data).decode())
        assert code == 2 and needle in err, err
    code, _, err = run_inspect(capsys, "drift", "User", "--b64", perp["data_b64"])
    assert code == 2 and "are a PerpMarket account, not a User" in err


def test_unreadable_file_and_bad_json_line(capsys, tmp_path):
    code, _, err = run_inspect(capsys, "drift", "auto", "--file", str(tmp_path / "missing"))
    assert code == 2 and "cannot read" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"data_b64": "' + LINES[0]["data_b64"] + '"}\n{"oops": 1}\n')
    code, _, err = run_inspect(capsys, "drift", "auto", "--file", str(bad))
    assert code == 2 and "line 2" in err


def test_velocity_without_idl_is_read_only(capsys):
    code, out, err = run_inspect(capsys, "velocity", "PerpMarket", "--b64", LINES[0]["data_b64"], "--json")
    assert code == 2
    assert "IDL" in err and "idl_path" in err and "market data works" in err


def test_velocity_with_an_idl_decodes(capsys, tmp_path):
    from quantdesk.venues.drift.idl import bundled_idl_path

    idl = tmp_path / "velocity.json"
    shutil.copy(bundled_idl_path(), idl)
    perp = next(line for line in LINES if line["account"] == "PerpMarket")
    code, out, err = run_inspect(capsys, "velocity", "auto", "--b64", perp["data_b64"], "--json", "--idl", str(idl))
    assert code == 0, err
    assert json.loads(out)["name"] == "WIF-PERP"


def test_velocity_with_a_broken_idl_says_so(capsys, tmp_path):
    idl = tmp_path / "velocity.json"
    idl.write_text('{"not": "an idl"}')
    code, _, err = run_inspect(capsys, "velocity", "auto", "--b64", LINES[0]["data_b64"], "--idl", str(idl))
    assert code == 2 and "not an Anchor IDL" in err
    code, _, err = run_inspect(capsys, "velocity", "auto", "--b64", LINES[0]["data_b64"], "--idl", str(tmp_path / "x"))
    assert code == 2 and "cannot read the IDL file" in err


def test_velocity_idl_path_from_the_config_file(capsys, tmp_path, monkeypatch):
    from quantdesk.venues.drift.idl import bundled_idl_path

    idl = tmp_path / "velocity-idl.json"
    shutil.copy(bundled_idl_path(), idl)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[venues.velocity]\nidl_path = "{idl}"\n')
    perp = next(line for line in LINES if line["account"] == "PerpMarket")
    code, out, err = run_inspect(capsys, "velocity", "auto", "--b64", perp["data_b64"], "--json", "--config", str(cfg))
    assert code == 0, err
    assert json.loads(out)["market_index"] == 23
