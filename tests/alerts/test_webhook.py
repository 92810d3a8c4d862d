"""The alert webhook against a local incoming-webhook server: one JSON body
Slack and Discord both read, retried with backoff on a 500, a 429 or a hang,
not retried on a 404, and the secret URL never in a repr, a log or an error."""

from __future__ import annotations

import asyncio
import logging

from quantdesk.sync.webhook import WebhookSender

from support.webhook_server import SECRET_PATH, webhook_server
from support.wait import until


async def test_a_message_arrives_as_slack_and_discord_read_it(timers):
    async with webhook_server() as srv:
        hook = WebhookSender(srv.url, timers=timers)
        hook.start()
        hook.send("SOL-PERP PRICE > 180: 181.25 on drift (alert 1a2b3c)")
        await until(lambda: hook.delivered == 1, what="the delivery")
        await hook.close()
    assert srv.received == [{"text": "SOL-PERP PRICE > 180: 181.25 on drift (alert 1a2b3c)",
                             "content": "SOL-PERP PRICE > 180: 181.25 on drift (alert 1a2b3c)"}]  # fmt: skip
    assert srv.content_types == ["application/json"]


async def test_a_500_is_retried_with_backoff_until_accepted(timers):
    async with webhook_server() as srv:
        srv.answers = [500, 502, 503]
        hook = WebhookSender(srv.url, timers=timers, retries=4, backoff_s=1.0)
        hook.start()
        hook.send("first")
        hook.send("second")
        await until(lambda: len(srv.received) == 1, what="the first attempt")
        await asyncio.sleep(0.05)
        assert len(srv.received) == 1  # no retry before the backoff has passed
        await timers.advance_until(lambda: hook.delivered == 2, 1.0, "both messages")
        await hook.close()
    assert srv.texts == ["first"] * 4 + ["second"]  # in order: the second waits for the first
    assert (hook.attempts, hook.failed) == (5, 0)


async def test_a_429_waits_its_retry_after(timers):
    async with webhook_server() as srv:
        srv.answers = [429]
        hook = WebhookSender(srv.url, timers=timers, backoff_s=0.1)
        hook.start()
        hook.send("slow")
        await until(lambda: len(srv.received) == 1, what="the first attempt")
        await timers.advance(1.0)
        await asyncio.sleep(0.05)
        assert len(srv.received) == 1  # Retry-After: 2 s, not the 0.1 s backoff
        await timers.advance_until(lambda: hook.delivered == 1, 0.5, "the retry")
        await hook.close()


async def test_a_hanging_server_times_out_and_is_tried_again(timers):
    async with webhook_server() as srv:
        srv.answers = ["hang"]
        hook = WebhookSender(srv.url, timers=timers, timeout_s=5.0, backoff_s=1.0)
        hook.start()
        hook.send("hello")
        await until(lambda: len(srv.received) == 1, what="the first attempt")
        await timers.advance(5.0)  # the attempt's timeout
        await timers.advance_until(lambda: hook.delivered == 1, 1.0, "the second attempt")
        await hook.close()
    assert len(srv.received) == 2 and hook.attempts == 2 and hook.last_error == ""  # accepted in the end


async def test_a_wrong_url_is_not_retried_and_the_secret_never_shows(timers, caplog):
    caplog.set_level(logging.DEBUG)
    async with webhook_server() as srv:
        hook = WebhookSender(srv.url.replace("xox", "bad"), timers=timers)
        hook.start()
        hook.send("lost")
        await until(lambda: hook.failed == 1, what="the refusal")
        await hook.close()
        unreachable = WebhookSender("http://127.0.0.1:9/hooks/xoxTOKENdoNotShow123", timers=timers, retries=1)
        unreachable.start()
        unreachable.send("nobody there")
        await timers.advance_until(lambda: unreachable.failed == 1, 1.0, "giving up")
        await unreachable.close()
    assert srv.received == [] and hook.attempts == 1 and hook.last_error == "refused with HTTP 404"
    assert "could not reach 127.0.0.1" in unreachable.last_error
    shown = [repr(hook), repr(unreachable), hook.last_error, unreachable.last_error, caplog.text]
    assert "HTTP 404" in caplog.text and "gave up after 2 attempts" in caplog.text
    for text in shown:
        assert "xoxTOKEN" not in text and "badTOKEN" not in text and SECRET_PATH not in text
    assert repr(hook) == "WebhookSender('http://127.0.0.1/…', queued=0)"


async def test_a_full_queue_drops_the_oldest_and_says_so(timers, caplog):
    hook = WebhookSender("https://hooks.slack.com/services/x", timers=timers, queue_size=2)
    for n in range(3):
        hook.send(f"m{n}")  # not started: nothing leaves
    assert hook.queued == 2 and hook.dropped == 1 and "dropped the oldest" in caplog.text
    await hook.close()
