"""Benchmark the outbox and the dispatcher beside their naive baselines (SPEC §10, issue 7).

    .venv/bin/python bench/dispatch.py                       # every case, default sizes
    .venv/bin/python bench/dispatch.py --cases dispatch,sequential --messages 5000
    .venv/bin/python bench/dispatch.py --cases enqueue,apscheduler --jobs 100000
    .venv/bin/python bench/dispatch.py --cases plan_outbox --rows 1000000

Cases, each in a process of its own (its peak RSS is its own), interleaved round by round
and reported as min and median over the rounds:

- ``dispatch``: ``Kit.dispatch_due`` over N planned messages in a fresh SQLite outbox, through
  a test provider that takes 50 ms per call (``RecordingProvider(latency=0.05)``), with
  ``[dispatch] workers`` threads: claims, the re-check, rendering, ``sending`` committed before
  each call, answers recorded — everything a real run does;
- ``sequential``: the plain loop a first version would write: render each message and call the
  same 50 ms provider, one after the other (no store at all, which flatters it);
- ``enqueue``: N planned messages put into a fresh SQLite outbox (``Outbox.enqueue``);
- ``apscheduler``: the same N messages as one APScheduler 3 job each in its
  ``SQLAlchemyJobStore`` on a fresh SQLite file — what "schedule every message" would cost;
- ``twilio``, ``twilio_sequential``, ``twilio_pool``: the real ``twilio`` SDK against a loopback
  Twilio (``remindkit.fakes.twilio`` in a process of its own, 50 ms per answer): N messages
  through ``Kit.dispatch_due`` with the ``twilio`` provider; a plain sequential loop calling
  the SDK's ``messages.create``; a bare ``ThreadPoolExecutor`` with as many threads calling
  the same SDK client (its HTTP pool sized like remindkit's: the fairest bare pool);
- ``plan_outbox``: a seeded million-row CSV feed (``bench/plan.py``'s generator, grouped by
  borrower) planned and enqueued into SQLite by the planner's stream, as ``run --once`` does
  before it dispatches.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

AT = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
LATENCY = 0.05
CASES = (
    "dispatch",
    "sequential",
    "twilio",
    "twilio_sequential",
    "twilio_pool",
    "enqueue",
    "apscheduler",
    "plan_outbox",
)
TWILIO_ENV = {
    "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
    "TWILIO_AUTH_TOKEN": "fake-auth-token-not-a-secret",
}
HERE = Path(__file__).resolve().parent


def planned_messages(count: int) -> list[Any]:
    """``count`` pre-due SMS messages for distinct borrowers, due at 10:00 on 2026-12-01."""
    from remindkit.models import Channel, Stage, zone_for
    from remindkit.parse import parse_installment
    from remindkit.plan import PlannedMessage
    from remindkit.policy.decision import MessageStatus
    from remindkit.policy.keys import message_key

    zone = zone_for("Asia/Shanghai")
    send_at = AT.astimezone(zone)
    messages = []
    for n in range(count):
        item = parse_installment(
            {
                "loan_id": f"HM{n:09d}",
                "borrower_id": f"B{n:08d}",
                "name": "王芳",
                "gender": "female",
                "phone": f"138{n % 10**8:08d}",
                "amount_due": "1234.50",
                "due_date": "2026-12-02",
            }
        )
        messages.append(
            PlannedMessage(
                key=message_key(
                    borrower_id=item.borrower.id,
                    installments=[item.key],
                    stage=Stage.PRE_DUE,
                    day=send_at.date(),
                    channel=Channel.SMS,
                ),
                borrower_id=item.borrower.id,
                loan_ids=(item.loan_id,),
                installments=(item,),
                stage=Stage.PRE_DUE,
                template_id="pre_due/sms",
                channel=Channel.SMS,
                fallback_channels=(),
                day=send_at.date(),
                send_at=send_at,
                not_after=send_at.replace(hour=20),
                status=MessageStatus.PLANNED,
            )
        )
    return messages


def _kit(store: str, provider: Any, workers: int, push: Any = None) -> Any:
    from remindkit.kit import Kit
    from remindkit.models import Channel
    from remindkit.testing import FrozenClock, demo_settings

    settings = demo_settings()
    dispatch = settings.dispatch.model_copy(update={"workers": workers, "batch_size": 200})
    return Kit(
        settings.model_copy(update={"dispatch": dispatch}),
        clock=FrozenClock(AT),
        store=store,
        providers={Channel.SMS: provider, Channel.PUSH: push or provider},
    )


def run_dispatch(folder: Path, options: argparse.Namespace) -> dict[str, Any]:
    from remindkit.testing import RecordingProvider

    provider = RecordingProvider(latency=LATENCY)
    kit = _kit(f"sqlite:///{folder / 'outbox.db'}", provider, options.workers)
    kit.enqueue(planned_messages(options.messages))
    started = time.perf_counter()
    report = kit.dispatch_due()
    seconds = time.perf_counter() - started
    kit.close()
    assert report["sent"] == options.messages, report.to_json()
    return {"messages": options.messages, "seconds": seconds}


def run_sequential(_folder: Path, options: argparse.Namespace) -> dict[str, Any]:
    from remindkit.kit import Kit
    from remindkit.providers.base import Envelope
    from remindkit.testing import FrozenClock, RecordingProvider, demo_settings

    kit = Kit(demo_settings(), clock=FrozenClock(AT))
    provider = RecordingProvider(latency=LATENCY)
    messages = planned_messages(options.sequential)
    started = time.perf_counter()
    for message in messages:
        rendered = kit.render(message.template_id, message.installments, now=AT)
        phone = message.installments[0].borrower.phone or ""
        provider.send(
            Envelope(key=message.key, channel=message.channel, to=phone, text=rendered.text)
        )
    seconds = time.perf_counter() - started
    return {"messages": len(messages), "seconds": seconds}


class _LoopbackTwilio:
    """``python -m remindkit.fakes.twilio --latency 0.05`` in its own process (its own GIL)."""

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "remindkit.fakes.twilio", f"--latency={LATENCY}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(10)


def _twilio_provider(url: str, pool: int) -> Any:
    from remindkit.providers.twilio import TwilioOptions, TwilioProvider

    options = TwilioOptions(from_number="+14155550100", base_url=url, pool_size=pool)  # type: ignore[arg-type]
    return TwilioProvider(options, environ=TWILIO_ENV)


def _sdk_messages(url: str, pool: int) -> Any:
    """The SDK used as its documentation shows, pointed at the fake, with a sized pool."""
    from requests.adapters import HTTPAdapter
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    http = TwilioHttpClient(timeout=10)
    http.session.mount("http://", HTTPAdapter(pool_maxsize=pool))
    client = Client(
        TWILIO_ENV["TWILIO_ACCOUNT_SID"],
        TWILIO_ENV["TWILIO_AUTH_TOKEN"],
        http_client=http,
        environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
    )
    client.api.base_url = url
    return client.api.v2010.accounts(TWILIO_ENV["TWILIO_ACCOUNT_SID"]).messages


def _texts(count: int) -> list[tuple[str, str]]:
    from remindkit.kit import Kit
    from remindkit.testing import FrozenClock, demo_settings

    kit = Kit(demo_settings(), clock=FrozenClock(AT))
    texts = []
    for message in planned_messages(count):
        rendered = kit.render(message.template_id, message.installments, now=AT)
        texts.append((message.installments[0].borrower.phone or "", rendered.text or ""))
    return texts


def run_twilio(folder: Path, options: argparse.Namespace) -> dict[str, Any]:
    with _LoopbackTwilio() as url:
        provider = _twilio_provider(url, options.workers)
        from remindkit.testing import RecordingProvider

        store = f"sqlite:///{folder / 'outbox.db'}"
        kit = _kit(store, provider, options.workers, push=RecordingProvider())
        kit.enqueue(planned_messages(options.messages))
        cpu, started = time.process_time(), time.perf_counter()
        report = kit.dispatch_due()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        kit.close()
    assert report["sent"] == options.messages, report.to_json()
    return {"messages": options.messages, "seconds": seconds, "cpu": cpu}


def run_twilio_sequential(_folder: Path, options: argparse.Namespace) -> dict[str, Any]:
    texts = _texts(options.sequential)
    with _LoopbackTwilio() as url:
        messages = _sdk_messages(url, 1)
        started = time.perf_counter()
        for to, text in texts:
            messages.create(to=to, body=text, from_="+14155550100")
        seconds = time.perf_counter() - started
    return {"messages": len(texts), "seconds": seconds}


def run_twilio_pool(_folder: Path, options: argparse.Namespace) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    texts = _texts(options.messages)
    with _LoopbackTwilio() as url:
        messages = _sdk_messages(url, options.workers)

        def send(item: tuple[str, str]) -> str:
            return str(messages.create(to=item[0], body=item[1], from_="+14155550100").sid)

        cpu, started = time.process_time(), time.perf_counter()
        with ThreadPoolExecutor(max_workers=options.workers) as pool:
            sids = list(pool.map(send, texts))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    assert len(set(sids)) == len(texts)
    return {"messages": len(texts), "seconds": seconds, "cpu": cpu}


def run_enqueue(folder: Path, options: argparse.Namespace) -> dict[str, Any]:
    from remindkit.outbox.store import Outbox

    messages = planned_messages(options.jobs)
    outbox = Outbox.open(f"sqlite:///{folder / 'outbox.db'}")
    started = time.perf_counter()
    result = outbox.enqueue(messages, now=AT)
    seconds = time.perf_counter() - started
    outbox.close()
    assert result.inserted == options.jobs
    return {"messages": options.jobs, "seconds": seconds}


def _deliver(key: str) -> None:  # the APScheduler job's function: never runs here
    raise AssertionError(key)


def run_apscheduler(folder: Path, options: argparse.Namespace) -> dict[str, Any]:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    messages = planned_messages(options.jobs)
    store = SQLAlchemyJobStore(url=f"sqlite:///{folder / 'jobs.db'}")
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone="Asia/Shanghai")
    scheduler.start(paused=True)  # started: add_job writes each job to the store at once
    started = time.perf_counter()
    for message in messages:
        scheduler.add_job(
            _deliver, "date", run_date=message.send_at, args=[message.key], id=message.key
        )
    seconds = time.perf_counter() - started
    scheduler.shutdown(wait=False)
    return {"messages": options.jobs, "seconds": seconds}


def run_plan_outbox(folder: Path, options: argparse.Namespace) -> dict[str, Any]:
    from remindkit.kit import Kit
    from remindkit.outbox.store import Outbox
    from remindkit.testing import FrozenClock, demo_settings

    feed = folder / "feed.csv"
    _plan_bench().generate_grouped(feed, options.rows)
    outbox = Outbox.open(f"sqlite:///{folder / 'outbox.db'}")
    at = AT.replace(hour=8, minute=30)
    kit = Kit(demo_settings(), clock=FrozenClock(at), store=outbox)
    started = time.perf_counter()
    with kit.planner.stream(_feed(feed), at=at, days=1) as stream:
        result = outbox.enqueue(stream, now=at)
    seconds = time.perf_counter() - started
    outbox.close()
    return {"messages": result.inserted, "rows": options.rows, "seconds": seconds}


def _feed(path: Path) -> Any:
    from remindkit.feed import read_feed

    return read_feed(path)


def _plan_bench() -> Any:
    spec = importlib.util.spec_from_file_location("plan_bench", HERE / "plan.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUNNERS = {
    "dispatch": run_dispatch,
    "sequential": run_sequential,
    "twilio": run_twilio,
    "twilio_sequential": run_twilio_sequential,
    "twilio_pool": run_twilio_pool,
    "enqueue": run_enqueue,
    "apscheduler": run_apscheduler,
    "plan_outbox": run_plan_outbox,
}


def child(case: str, options: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="rk-bench-") as folder:
        figures = RUNNERS[case](Path(folder), options)
    figures["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def measure(case: str, argv: list[str]) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", case, *argv],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def report(results: dict[str, list[dict[str, Any]]], options: argparse.Namespace) -> None:
    def rate(case: str, pick: Any) -> float:
        return pick(r["messages"] / r["seconds"] for r in results[case])

    load = os.getloadavg()[0]
    print(f"remindkit bench/dispatch.py · {options.rounds} round(s) · load {load:.1f}")
    widths = {"messages": 9, "min s": 9, "median s": 9, "msg/s (median)": 14, "peak RSS": 9}
    print(f"{'case':<12} " + " ".join(f"{name:>{width}}" for name, width in widths.items()))
    for case, rows in results.items():
        seconds = [r["seconds"] for r in rows]
        print(
            f"{case:<12} {rows[0]['messages']:>9,} {min(seconds):>9.2f} "
            f"{statistics.median(seconds):>9.2f} {rate(case, statistics.median):>14,.0f} "
            f"{max(r['rss'] for r in rows):>6.0f} MB"
        )
    if "dispatch" in results and "sequential" in results:
        ratio = rate("dispatch", statistics.median) / rate("sequential", statistics.median)
        print(f"dispatch vs sequential: {ratio:.0f}× (target ≥ 40×, and ≥ 500 msg/s)")
    if {"twilio", "twilio_sequential", "twilio_pool"} <= set(results):
        twilio = rate("twilio", statistics.median)
        print(
            f"real twilio SDK: {twilio:,.0f} msg/s through remindkit (target ≥ 500), "
            f"{twilio / rate('twilio_sequential', statistics.median):.0f}× the sequential SDK "
            f"loop (≥ 40×), {twilio / rate('twilio_pool', statistics.median):.2f}× the bare "
            "thread pool (≥ 0.9×)"
        )
    if "enqueue" in results and "apscheduler" in results:
        ratio = rate("enqueue", statistics.median) / rate("apscheduler", statistics.median)
        print(f"outbox enqueue vs APScheduler job store: {ratio:.0f}× (target ≥ 50×)")
    if "plan_outbox" in results:
        row = min(results["plan_outbox"], key=lambda r: r["seconds"])
        peak = max(r["rss"] for r in results["plan_outbox"])
        print(
            f"plan {row['rows']:,} rows into the outbox: {row['seconds']:.1f} s, "
            f"{row['messages']:,} messages, peak {peak:.0f} MB (target ≤ 60 s, ≤ 400 MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated")
    parser.add_argument("--messages", type=int, default=5000, help="dispatched per round")
    parser.add_argument("--sequential", type=int, default=200, help="sent one by one")
    parser.add_argument("--workers", type=int, default=64, help="[dispatch] workers")
    parser.add_argument("--jobs", type=int, default=100_000, help="enqueued / scheduled")
    parser.add_argument("--rows", type=int, default=1_000_000, help="plan_outbox feed rows")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options)
        return
    cases = [case for case in options.cases.split(",") if case]
    argv = [
        f"--{name}={getattr(options, name)}"
        for name in ("messages", "sequential", "workers", "jobs", "rows")
    ]
    results: dict[str, list[dict[str, Any]]] = {case: [] for case in cases}
    for number in range(options.rounds):
        shift = number % len(cases)
        for case in cases[shift:] + cases[:shift]:
            results[case].append(measure(case, argv))
            if sys.stderr.isatty():
                print(".", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    report(results, options)


if __name__ == "__main__":
    main()
