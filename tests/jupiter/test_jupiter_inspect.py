"""``quantdesk inspect jupiter``: every fixture account from a file or a JSON-RPC response
prints with its IDL fields and derived values; bad input exits 2 with a clear message;
``inspect jupiter idl`` refreshes the IDL from the program's on-chain IDL account."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from decimal import Decimal

import pytest
from support.jupiter_chain import Chain, SolanaHttp
from support.jupiter_fixtures import ACCOUNTS_FILE, LONG_POSITION, SOL_CUSTODY, data, lines, lookup

from quantdesk import cli
from quantdesk.config.paths import user_data_dir
from quantdesk.venues.jupiter.accounts import bundled_idl_path
from quantdesk.venues.jupiter.config import PROGRAM_ID
from quantdesk.venues.jupiter.idl_account import IDL_ACCOUNT, idl_address
from quantdesk.venues.jupiter.spec import idl_cache


def run(capsys, *argv: str) -> tuple[int, object, str]:
    code = cli.main(["inspect", "jupiter", *argv])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if "--json" in argv and code == 0 else out.out), out.err


def within(got, want, tol) -> bool:
    if isinstance(tol, str) and tol.endswith("%"):
        return abs(Decimal(str(got)) - Decimal(str(want))) <= abs(Decimal(str(want))) * Decimal(tol[:-1]) / 100
    return abs(Decimal(str(got)) - Decimal(str(want))) <= Decimal(str(tol))


def test_fixture_file_prints_every_account_with_expected_fields_and_derived_values(capsys):
    code, out, _ = run(capsys, "--file", str(ACCOUNTS_FILE), "--json")
    assert code == 0
    assert [o["account"] for o in out] == [x["account"] for x in lines()]
    for obj, line in zip(out, lines()):
        assert obj["pubkey"] == line["pubkey"]
        for key, want in line["expect"].items():
            if key.startswith("derived."):
                got = obj["derived"][key.removeprefix("derived.")]
                assert within(got, want, line["tolerance"][key]), (line["pubkey"], key, got, want)
            elif key == "side" and obj["account"] == "Position":
                assert obj["side"] == obj["derived"]["side"] == want
            else:
                assert lookup(obj, key) == want, (line["pubkey"], key)
    custody = out[0]
    assert custody["layout"] == {"data_bytes": 2000, "idl_bytes": 1060, "bytes_past_idl": 940}
    assert custody["oracle"]["oracle_type"] == "pyth"  # nested structs as objects, enums by name
    assert custody["derived"]["borrow_rate_hourly"] == pytest.approx(custody["derived"]["borrow_apr"] / 8760)


def test_get_multiple_accounts_response_with_its_request(tmp_path, capsys):
    keys = [SOL_CUSTODY, LONG_POSITION, "11111111111111111111111111111111"]
    values = [{"data": [base64.b64encode(data(k)).decode(), "base64"], "owner": PROGRAM_ID} for k in keys[:2]] + [None]
    saved = {
        "request": {"jsonrpc": "2.0", "id": 1, "method": "getMultipleAccounts", "params": [keys, {"encoding": "base64"}]},
        "response": {"jsonrpc": "2.0", "id": 1, "result": {"context": {"slot": 450101361}, "value": values}},
    }
    path = tmp_path / "gma.json"
    path.write_text(json.dumps(saved, indent=2))
    code, out, _ = run(capsys, "--file", str(path), "--json")
    assert code == 0
    assert [(o["pubkey"], o["account"]) for o in out] == [(SOL_CUSTODY, "Custody"), (LONG_POSITION, "Position"), (keys[2], None)]
    assert out[1]["derived"]["borrow_fee_owed_usd"] == pytest.approx(0.018884, abs=1e-6)


def test_get_account_info_response_and_b64_of_one_account(tmp_path, capsys):
    resp = {"jsonrpc": "2.0", "id": 7, "result": {"context": {"slot": 1}, "value": {"data": [base64.b64encode(data(LONG_POSITION)).decode(), "base64"]}}}
    path = tmp_path / "gai.json"
    path.write_text(json.dumps(resp))
    code, out, _ = run(capsys, "--file", str(path), "--json")
    assert code == 0 and out[0]["account"] == "Position" and out[0]["pubkey"] is None
    assert out[0]["derived"]["needs"] == [SOL_CUSTODY]  # fees need the custody in the same input
    code, out, _ = run(capsys, "--b64", base64.b64encode(data(SOL_CUSTODY)).decode(), "--json")
    assert code == 0 and out[0]["derived"]["utilization"] == pytest.approx(0.111827, abs=1e-5)
    raw = tmp_path / "custody.bin"
    raw.write_bytes(data(SOL_CUSTODY))
    code, out, _ = run(capsys, "--file", str(raw), "--json")
    assert code == 0 and out[0]["account"] == "Custody"


def test_human_output_shows_nested_fields(capsys):
    code, out, _ = run(capsys, "--b64", base64.b64encode(data(LONG_POSITION)).decode())
    assert code == 0
    assert "side: long" in out and "size_usd: 1183738004" in out and "bytes_past_idl: 6" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--b64", base64.b64encode(data(SOL_CUSTODY)[:300]).decode()], "300 bytes is too short for a Custody account"),
        (["--b64", base64.b64encode(bytes(range(8)) + bytes(300)).decode()], "unknown discriminator 0001020304050607"),
        (["--b64", "not base64!"], "--b64 is not valid base64"),
        (["Pool", "--b64", base64.b64encode(data(SOL_CUSTODY)).decode()], "holds a Custody account, not a Pool"),
        (["Market", "--b64", "AAAA"], "unknown Jupiter account type 'Market'"),
        ([], "pass the account data"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_rpc_error_response_is_reported(tmp_path, capsys):
    path = tmp_path / "err.json"
    path.write_text(json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "node is behind"}}))
    code, _, err = run(capsys, "--file", str(path))
    assert code == 2 and "the RPC answered with an error: node is behind" in err


def idl_account_bytes(idl_json: str) -> bytes:
    blob = zlib.compress(idl_json.encode())
    return IDL_ACCOUNT + bytes(32) + struct.pack("<I", len(blob)) + blob


@pytest.fixture
def rpc():
    chain = Chain()
    http = SolanaHttp(chain)
    http.start()
    yield chain, http
    http.stop()


def test_idl_refresh_reads_the_on_chain_idl_caches_it_and_inspect_uses_it(rpc, capsys):
    chain, http = rpc
    # the on-chain IDL differs from the bundled one in one field name, so its use is visible
    onchain = bundled_idl_path().read_text().replace('"name": "aumUsd",', '"name": "aumUsdOnChain",', 1)
    chain.set_quietly(idl_address(PROGRAM_ID), idl_account_bytes(onchain))
    code, out, err = run(capsys, "idl", "--rpc", http.url)
    assert code == 0, err
    assert idl_cache(user_data_dir()).read_text() == onchain
    assert "getAccountInfo" in http.calls
    code, out, _ = run(capsys, "--file", str(ACCOUNTS_FILE), "--json")
    pool = next(o for o in out if o["account"] == "Pool")
    assert pool["aum_usd_on_chain"] == 931403341015904 and "aum_usd" not in pool


def test_idl_refresh_failures_keep_the_bundled_idl(rpc, capsys, tmp_path):
    chain, http = rpc
    code, _, err = run(capsys, "idl", "--rpc", http.url)
    assert code == 2 and "has no IDL account" in err
    chain.set_quietly(idl_address(PROGRAM_ID), IDL_ACCOUNT + bytes(36) + b"\x05\x00\x00\x00hello")
    code, _, err = run(capsys, "idl", "--rpc", http.url)
    assert code == 2 and "not zlib-compressed JSON" in err
    http.down = True
    code, _, err = run(capsys, "idl", "--rpc", http.url + "/?api-key=SECRET123")
    assert code == 2 and "no URL answered" in err and "--rpc" in err and "SECRET123" not in err
    assert not idl_cache(user_data_dir()).exists()
