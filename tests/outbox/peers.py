"""Real peers on loopback for the provider tests: Prism serving Twilio's official OpenAPI
spec (npm ``@stoplight/prism-cli``, installed by ``npm ci``) and the fakes of
:mod:`remindkit.fakes`, each started once per test session.

Without node_modules or the spec the Prism tests are skipped, except in CI (``CI=true``),
where they fail: the project's own files install both.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from remindkit.fakes.fcm import FakeFcm, service_account_key
from remindkit.fakes.twilio import FakeTwilio
from remindkit.web.server import running_server

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / "node_modules" / ".bin" / "prism"
TWILIO_SPEC = ROOT.parent / "shared" / "peers" / "twilio_api_v2010.json"
_LISTENING = re.compile(r"Prism is listening on (http://127\.0\.0\.1:\d+)")
_START_TIMEOUT = 90.0


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI installs it: npm ci, and ../shared/peers beside the repo)")
    pytest.skip(reason)


@contextmanager
def prism_mock(spec: Path) -> Iterator[str]:
    """Prism mocking ``spec`` on a free loopback port, answering 422 to any request the
    spec does not allow (``--errors``); yields its base URL."""
    if not PRISM.exists():
        unavailable(f"{PRISM.relative_to(ROOT)} is missing: run npm ci")
    if not spec.exists():
        unavailable(f"{spec} is missing")
    process = subprocess.Popen(
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", "0", "--errors", str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield _wait_listening(process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _wait_listening(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + _START_TIMEOUT
    tail: list[str] = []
    # Bounded: Prism prints one line per route (a few hundred), then the address.
    for line in process.stdout:
        found = _LISTENING.search(line)
        if found:
            # Keep draining its output so Prism never blocks on a full pipe.
            _drain(process)
            return found.group(1)
        tail = [*tail[-20:], line]
        if time.monotonic() > deadline:
            break
    raise RuntimeError("Prism did not start:\n" + "".join(tail))


def _drain(process: subprocess.Popen[str]) -> None:
    import threading

    stream = process.stdout
    assert stream is not None
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()


@dataclass(frozen=True, slots=True)
class FcmPeer:
    """The loopback token endpoint + FCM, and a service-account key file it accepts."""

    fake: FakeFcm
    url: str
    key_file: Path


@pytest.fixture(scope="module")
def fcm_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FcmPeer]:
    fake = FakeFcm()
    with running_server(fake.app()) as url:
        key_file = tmp_path_factory.mktemp("fcm") / "service-account.json"
        fake.public_keys.append(service_account_key(key_file, f"{url}/token"))
        yield FcmPeer(fake, url, key_file)


@pytest.fixture(scope="module")
def twilio_server() -> Iterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    with running_server(fake.app()) as url:
        yield fake, url
