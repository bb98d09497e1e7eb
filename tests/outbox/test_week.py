"""A simulated week with a frozen clock: what goes out is exactly what the plans said."""

from __future__ import annotations

from datetime import datetime, timedelta

from outbox_support import KitFactory

from remindkit.outbox.states import MessageState
from remindkit.resources import shipped_sample_feed
from remindkit.testing import FrozenClock, RecordingProvider

MONDAY_MORNING = datetime.fromisoformat("2026-12-01T08:30:00+08:00")
TICK = timedelta(minutes=30)


def test_a_week_of_cron_runs_sends_every_planned_message_once_at_its_time(
    make_kit: KitFactory,
) -> None:
    provider = RecordingProvider()
    kit = make_kit(provider, at=MONDAY_MORNING)
    clock = kit.clock
    assert isinstance(clock, FrozenClock)
    planned: dict[str, datetime] = {}
    for day in range(7):
        morning = MONDAY_MORNING + timedelta(days=day)
        clock.set(morning)
        planned |= {m.key: m.send_at for m in kit.plan(shipped_sample_feed()).planned}
        report = kit.run_once(shipped_sample_feed())
        assert report.planned == len(kit.plan(shipped_sample_feed()).planned)
        moment = morning + TICK
        while moment < morning + timedelta(hours=14):  # 09:00 … 22:00 Beijing, every 30 min
            clock.set(moment)
            kit.dispatch_due()
            moment += TICK
    sent = {m.key: m for m in kit.outbox.messages(states=(MessageState.SENT,), limit=1000)}
    assert set(sent) == set(planned)
    assert all(sent[key].sent_at == planned[key] for key in planned)
    assert sorted(provider.sent_keys) == sorted(planned)
    assert len(planned) > 20  # the sample feed reaches most borrowers on most days
