"""``--log-format json``: one JSON event per line, ids as fields, no secret in any line."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest
import structlog

from quantdesk.wiring.logs import MASK, Redactor, configure_logging, get_logger

JWT_SECRET = "jwt-secret-never-in-a-log-0123456789"
A_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJlLXBhcnQ"


@pytest.fixture
def json_log():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    configure_logging("json", secrets=[JWT_SECRET], stream=out)
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_redactor_masks_secret_fields_url_passwords_bearer_tokens_jwts_and_configured_secrets():
    r = Redactor([JWT_SECRET])
    event = r(None, "info", {
        "event": f"connect redis://desk:hunter2@h:6379/0 with {JWT_SECRET}",
        "jwt_secret": "x" * 40,
        "headers": {"Authorization": f"Bearer {A_JWT}"},
        "dsn": "postgresql://app:pgpass99@db/test?password=qpass77",
        "note": f"token was {A_JWT}",
        "venue": "drift", "market": "SOL-PERP", "order_id": 42,
    })
    text = json.dumps(event)
    for secret in ("hunter2", JWT_SECRET, "x" * 40, A_JWT, "pgpass99", "qpass77"):
        assert secret not in text
    assert event["venue"] == "drift" and event["market"] == "SOL-PERP" and event["order_id"] == 42
    assert event["jwt_secret"] == MASK
    assert "redis://desk:***@h:6379/0" in event["event"]


def test_quantdesk_events_and_library_records_are_one_json_object_per_line_without_secrets(json_log):
    get_logger("quantdesk.venues.drift").warning("book.stale", venue="drift", market="SOL-PERP", age_s=3.5, api_token=A_JWT)
    logging.getLogger("websockets.client").error("handshake to wss://u:wspass11@dlob failed, key %s", JWT_SECRET)
    try:
        raise ConnectionError(f"refused with password {JWT_SECRET}")
    except ConnectionError:
        logging.getLogger("quantdesk.sync").exception("redis down")
    events = lines(json_log)
    assert [e["event"].split(",")[0] for e in events] == ["book.stale", "handshake to wss://u:***@dlob failed", "redis down"]
    stale = events[0]
    assert (stale["venue"], stale["market"], stale["age_s"], stale["level"]) == ("drift", "SOL-PERP", 3.5, "warning")
    assert "timestamp" in stale and stale["logger"] == "quantdesk.venues.drift"
    assert "ConnectionError" in events[2]["exception"]
    text = json_log.getvalue()
    for secret in (A_JWT, "wspass11", JWT_SECRET):
        assert secret not in text


def test_a_bad_log_format_says_what_to_use():
    with pytest.raises(ValueError, match="use json or console"):
        configure_logging("xml")  # type: ignore[arg-type]


def test_feed_json_log_is_json_on_every_line_and_hides_the_redis_password():
    proc = subprocess.run(
        [sys.executable, "-m", "quantdesk.cli", "feed", "--redis", "redis://desk:hunter2@127.0.0.1:1/0",
         "--rate", "100", "--duration", "1.2", "--log-format", "json"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    status = [e for e in events if e["event"] == "feed.status"]
    assert status and status[-1]["state"] != "connected" and status[-1]["namespace"] == "default"
    assert "hunter2" not in proc.stderr


def test_the_terminal_log_file_in_json_masks_every_configured_secret(tmp_path, monkeypatch):
    from quantdesk.config.settings import Settings
    from quantdesk.console.logfile import setup_file_logging

    settings = Settings(db={"dsn": "postgresql://desk:pgsecret42@db/journal"}, api={"jwt_secret": JWT_SECRET})
    assert {"pgsecret42", JWT_SECRET} <= set(settings.secret_values())
    monkeypatch.setenv("QUANTDESK_LOG_DIR", str(tmp_path))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        path = setup_file_logging(fmt="json", secrets=settings.secret_values())
        # a library quoting the password alone, outside any URL, is masked too
        logging.getLogger("psycopg").error("auth failed for password pgsecret42 (key %s)", JWT_SECRET)
        get_logger("quantdesk.trading").info("order.placed", venue="sim-drift", market="SOL-PERP", order_id="o1")
        for h in root.handlers:
            h.flush()
    finally:
        for h in root.handlers:
            if h not in handlers:
                h.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()
    text = path.read_text()
    events = [json.loads(line) for line in text.splitlines()]
    assert [e["event"].split(" ")[0] for e in events] == ["auth", "order.placed"]
    assert events[1]["order_id"] == "o1" and events[1]["venue"] == "sim-drift"
    assert "pgsecret42" not in text and JWT_SECRET not in text


def test_run_refuses_an_unknown_log_format(capfd):
    from quantdesk import cli

    with pytest.raises(SystemExit):
        cli.main(["--log-format", "xml"])
    assert "json" in capfd.readouterr().err
