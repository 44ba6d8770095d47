"""The usage outbox and the glossary store of edge.sync.client (no server needed)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edge.errors import SyncError
from edge.sync.glossary_store import GlossaryStore
from edge.sync.outbox import DURATION_BUCKETS, Outbox, OutboxOptions, TurnUsage, duration_bucket
from edge.turn.result import TurnResult
from glossary.schema import Glossary, Term
from glossary.signing import generate_private_key, sign_envelope

REPO = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 11, 27)


def _turn(**kw: object) -> TurnUsage:
    base: dict[str, object] = {"source": "ja", "target": "vi", "day": DAY}
    base.update(kw)
    return TurnUsage(**base)  # type: ignore[arg-type]


def test_counters_of_a_turn() -> None:
    usage = _turn(
        term_ids=("res.juminhyo_copy", "res.juminhyo_copy", "tax.juminzei"),
        fallback_term_ids=("tax.juminzei",),
        phrase_id="greeting.welcome",
        duration_s=2.4,
        flagged=True,
    )
    assert sorted(usage.counters()) == sorted(
        [
            ("turn", "", 1),
            ("term", "res.juminhyo_copy", 2),
            ("term", "tax.juminzei", 1),
            ("term_fallback", "tax.juminzei", 1),
            ("phrase", "greeting.welcome", 1),
            ("duration", "2to3s", 1),
            ("flagged", "", 1),
        ]
    )


def test_text_cannot_enter_as_an_id_or_language() -> None:
    with pytest.raises(SyncError):
        _turn(term_ids=("住民票の写しをください",)).counters()
    with pytest.raises(SyncError):
        _turn(phrase_id="hello there").counters()
    with pytest.raises(SyncError):
        _turn(source="Xin chào").counters()


def test_from_turn_reads_ids_and_timings_only() -> None:
    result = TurnResult(
        source_language="vi",
        source_text="Tôi muốn lấy bản sao phiếu cư trú",
        target_language="ja",
        target_text="住民票の写しがほしいです",
        terms_applied=["res.juminhyo_copy"],
        timings_ms={"first_output": 850.0, "total": 1200.0},
    )
    usage = TurnUsage.from_turn(result, day=DAY)
    assert (usage.source, usage.target, usage.term_ids, usage.duration_s) == (
        "vi",
        "ja",
        ("res.juminhyo_copy",),
        0.85,
    )
    assert "Tôi" not in repr(usage) and "住民票の写しが" not in repr(usage)


def test_duration_buckets_match_the_server_protocol() -> None:
    from contracts.fleet import DURATION_BUCKETS as SERVER_BUCKETS

    assert tuple(label for _, label in DURATION_BUCKETS) == SERVER_BUCKETS
    assert [duration_bucket(s) for s in (0.2, 1.0, 2.5, 4.9, 9.99, 30.0)] == [
        "lt1s",
        "1to2s",
        "2to3s",
        "3to5s",
        "5to10s",
        "ge10s",
    ]


def test_batches_are_frozen_resent_with_the_same_id_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    with Outbox(path, OutboxOptions(max_batch_rows=3)) as outbox:
        for i in range(4):
            outbox.add_turn(_turn(target="vi" if i % 2 else "ne", term_ids=("res.juminhyo_copy",)))
        assert outbox.pending_turns() == 4
        batch = outbox.next_batch()
        assert batch is not None and len(json.loads(batch.body)["rows"]) == 3
        assert outbox.next_batch().batch_id == batch.batch_id  # type: ignore[union-attr]
        outbox.add_turn(_turn(target="pt"))  # arrives while the batch is in flight
    with Outbox(path, OutboxOptions(max_batch_rows=3)) as outbox:  # a restart keeps the batch and its id
        again = outbox.next_batch()
        assert again is not None and again.batch_id == batch.batch_id and again.body == batch.body
        assert outbox.pending_turns() == 5
        delays = [outbox.mark_failed(batch.batch_id, now=0.0) for _ in range(4)]
        assert delays[-1] > delays[0]
        outbox.mark_sent(batch.batch_id)
        ids = set()
        while (nxt := outbox.next_batch()) is not None:
            ids.add(nxt.batch_id)
            outbox.mark_sent(nxt.batch_id)
        assert batch.batch_id not in ids and outbox.pending() == {}


def test_compaction_drops_only_days_older_than_the_limit(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db", OutboxOptions(max_age_days=30)) as outbox:
        outbox.add_turn(_turn(day=DAY - dt.timedelta(days=45)))
        outbox.add_turn(_turn(day=DAY - dt.timedelta(days=45)))
        outbox.add_turn(_turn(day=DAY - dt.timedelta(days=3)))
        assert outbox.compact(today=DAY) == 2
        assert outbox.pending_turns() == 1


_WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from edge.sync.outbox import Outbox, TurnUsage
    outbox = Outbox(sys.argv[1])
    n = 0
    while True:
        outbox.add_turn(TurnUsage(source="ja", target="vi", day=dt.date(2026, 11, 27), duration_s=1.0))
        n += 1
        print(n, flush=True)
    """
)


def test_outbox_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, env=env, cwd=REPO, text=True
    )
    assert proc.stdout is not None
    acknowledged = 0
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= 150:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rest = proc.stdout.read().split()
    acknowledged = int(rest[-1]) if rest else acknowledged
    with Outbox(path) as outbox:
        kept = outbox.pending_turns()
    # Every turn whose add_turn returned is there; at most the one in flight is not.
    assert acknowledged <= kept <= acknowledged + 1


def _signed(number: int, label: str, key: object) -> bytes:
    term = Term(
        id="res.juminhyo_copy",
        domain="res",
        ja="住民票の写し",
        reading="じゅうみんひょうのうつし",
        translations={"en": f"residence certificate {label}"},
    )
    glossary = Glossary.from_items([term], []).to_dict()
    envelope = sign_envelope(
        key, glossary, version=f"v{number}", number=number, published_at="2026-11-29T00:00:00Z"
    )  # type: ignore[arg-type]
    return json.dumps(envelope).encode()


def test_store_keeps_previous_falls_back_and_rolls_back(tmp_path: Path) -> None:
    key = generate_private_key()
    store = GlossaryStore(tmp_path / "g", key.public_key())
    assert store.load() is None
    store.install(_signed(1, "one", key))
    store.install(_signed(2, "two", key))
    assert store.load().statement.number == 2  # type: ignore[union-attr]
    assert store.load_previous().statement.number == 1  # type: ignore[union-attr]
    assert not [p for p in (tmp_path / "g").iterdir() if p.suffix == ".tmp"]
    # A torn or tampered current file is never used: the previous good version is.
    current = tmp_path / "g" / "current.json"
    current.write_bytes(current.read_bytes().replace(b"two", b"evil"))
    assert store.load().statement.number == 1  # type: ignore[union-attr]
    store.install(_signed(3, "three", key))
    with pytest.raises(SyncError):  # the previous file is the tampered one: no rollback to it
        store.rollback()
    store.install(_signed(4, "four", key))
    assert store.rollback().statement.number == 3
    assert store.load().statement.number == 3  # type: ignore[union-attr]
    assert store.load_previous().statement.number == 4  # type: ignore[union-attr]
