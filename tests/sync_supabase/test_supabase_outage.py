"""PostgREST killed in the middle of a sync, right after it committed a batch
and before the terminal heard so: after it comes back every journal row is
there exactly once, and trading never waited for it."""

from __future__ import annotations

import pytest

from quantdesk.core.model import Fill, Order
from quantdesk.sync.supabase_journal import SupabaseJournalSync
from quantdesk.trading.journal import Journal

N = 120


@pytest.mark.parametrize("how", ["502", "drop"])
def test_postgrest_killed_mid_sync_loses_and_doubles_nothing(supabase_project, session_of, tmp_path, how):
    rig = supabase_project
    path = tmp_path / "journal.sqlite3"
    writer = Journal.open(path)
    for i in range(N):
        writer.record_order(Order(venue="sim-drift", market="SOL-PERP", order_id=str(i), side="buy", type="limit",
                                  size=10**9, price=150_000_000 + i, ts=i + 1))
        writer.record_fill(Fill(venue="sim-drift", market="SOL-PERP", order_id=str(i), fill_id=f"f{i}", side="buy",
                                price=150_000_000 + i, size=10**9, fee=7, liquidity="taker", ts=i + 1))
    writes = []

    def kill_after_third_write(method: str, tail: str) -> str | None:
        writes.append(tail)
        if len(writes) == 3:
            rig.rest.kill()  # PostgREST committed this batch and died before answering
            return how
        return None

    rig.gateway.after_rest = kill_after_third_write
    syncer = SupabaseJournalSync(Journal.open(path), session_of(rig.a), batch_size=25, min_backoff=0.01)
    syncer.step()
    down = syncer.state
    assert down.status == "down" and not down.needs_login
    assert f"Supabase at {rig.url} did not answer" in down.last_error
    committed = rig.rows("SELECT count(*) FROM orders")[0][0] + rig.rows("SELECT count(*) FROM fills")[0][0]
    assert 0 < committed < 2 * N and down.pending > 0  # the unanswered batch (and the rest) still wait

    # Trading goes on while the API is away; the journal takes every write.
    writer.record_fill(Fill(venue="sim-drift", market="SOL-PERP", order_id="0", fill_id="late", side="buy",
                            price=150_000_000, size=10**9, fee=7, liquidity="taker", ts=N + 1))
    syncer.step()
    assert syncer.state.status == "down"

    rig.gateway.after_rest = None
    rig.rest.start()
    syncer.step()
    assert syncer.state.status == "ok" and syncer.state.pending == 0
    assert rig.rows("SELECT count(*), count(DISTINCT id) FROM orders") == [(N, N)]
    assert rig.rows("SELECT count(*), count(DISTINCT id) FROM fills") == [(N + 1, N + 1)]
    assert rig.rows("SELECT count(*) FROM fills WHERE fill_id = 'late'") == [(1,)]
    writer.close()
    syncer.journal.close()
