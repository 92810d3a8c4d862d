"""Who may read the data API: bearer JWTs (HS256), scopes, expiry and
per-token rate limits, checked on a real Uvicorn server."""

from __future__ import annotations

import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from quantdesk.serve.api.app import ApiOptions
from support.api_server import SECRET, start_rig, stop_rig

MARKETS = "/v1/markets"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer " + jwt.encode({"scope": "market:read", "exp": 2**40}, "another-secret-entirely-0123456789", algorithm="HS256")],
    ids=["none", "empty", "basic", "garbage", "wrong-secret"],
)
async def test_no_token_or_a_bad_one_gets_401_and_nothing_else(api_rig, header):
    r = await api_rig.http.get(MARKETS, headers={} if header is None else {"Authorization": header})
    assert r.status_code == 401
    assert r.content == b""


async def test_expired_token_gets_401(api_rig):
    token = api_rig.token("market:read", ttl=60)
    assert (await api_rig.http.get(MARKETS, headers={"Authorization": f"Bearer {token}"})).status_code == 200
    api_rig.wall.now += 3600
    r = await api_rig.http.get(MARKETS, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.content == b""


async def test_token_without_expiry_or_signed_with_none_is_refused(api_rig):
    no_exp = jwt.encode({"scope": "market:read"}, SECRET, algorithm="HS256")
    unsigned = jwt.encode({"scope": "market:read", "exp": 2**40}, None, algorithm="none")
    for token in (no_exp, unsigned):
        assert (await api_rig.http.get(MARKETS, headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_wrong_scope_gets_403(api_rig):
    r = await api_rig.get("/v1/positions", "market:read")
    assert r.status_code == 403 and r.content == b""
    r = await api_rig.get(MARKETS, "positions:read")
    assert r.status_code == 403


async def test_supabase_session_token_reads_market_data_only(api_rig):
    # what Supabase issues a signed-in user: role, aud, no scope claim
    claims = {"sub": "0b0e-user", "role": "authenticated", "aud": "authenticated", "exp": int(api_rig.wall.now) + 600}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api_rig.http.get(MARKETS, headers=headers)).status_code == 200
    assert (await api_rig.http.get("/v1/positions", headers=headers)).status_code == 403


async def test_stream_without_a_valid_token_is_refused_401(api_rig):
    with pytest.raises(InvalidStatus) as err:
        async with connect(api_rig.ws_url):
            pass
    assert err.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as err:
        async with connect(api_rig.ws_url, additional_headers={"Authorization": "Bearer forged"}):
            pass
    assert err.value.response.status_code == 401


@pytest.fixture
async def limited():
    rig = await start_rig(ApiOptions(rate_per_s=2.0, burst=3))
    yield rig
    await stop_rig(rig)


async def test_rate_limit_per_token_429_with_retry_after(limited):
    a = limited.bearer("market:read")
    b = limited.bearer("market:read")
    for _ in range(3):
        assert (await limited.http.get(MARKETS, headers=a)).status_code == 200
    r = await limited.http.get(MARKETS, headers=a)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"  # one request back after 0.5 s, rounded up
    assert r.content == b""
    # another token has its own allowance
    assert (await limited.http.get(MARKETS, headers=b)).status_code == 200
    # the bucket refills with time
    limited.mono.now += 0.5
    assert (await limited.http.get(MARKETS, headers=a)).status_code == 200
    assert (await limited.http.get(MARKETS, headers=a)).status_code == 429


async def test_rate_limit_applies_to_stream_handshakes(limited):
    headers = limited.bearer("market:read")
    for _ in range(3):
        assert (await limited.http.get(MARKETS, headers=headers)).status_code == 200
    with pytest.raises(InvalidStatus) as err:
        async with connect(limited.ws_url, additional_headers=headers):
            pass
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"


def test_minted_tokens_carry_scopes_and_expiry():
    from quantdesk.serve.api.auth import mint_token, parse_ttl, verify

    token = mint_token(SECRET, ["market:read", "positions:read"], parse_ttl("1h"), 1_000)
    grant = verify(token, SECRET, 1_000 + 3599)
    assert grant.scopes == {"market:read", "positions:read"}
    with pytest.raises(Exception):
        verify(token, SECRET, 1_000 + 3600 + 60)
    with pytest.raises(ValueError, match="unknown scope"):
        mint_token(SECRET, ["orders:write"], 60, 0)
    with pytest.raises(ValueError, match="e.g. 90s"):
        parse_ttl("forever")
    assert SECRET not in repr(grant)
