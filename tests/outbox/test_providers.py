"""Providers: the registry (entry points from another package), built-ins, batches, errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from outbox_support import PLATFORM_TOML, planned

from remindkit.dispatch.delivery import RateLimiter, RetryPolicy, deliver
from remindkit.errors import (
    ConfigError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from remindkit.models import Channel
from remindkit.providers import registry
from remindkit.providers.base import Envelope, Provider, Receipt
from remindkit.providers.console import ConsoleProvider
from remindkit.providers.file import FileOptions, FileProvider

SMS = Envelope(key="rk1_a", channel=Channel.SMS, to="+8613800138000", text="【禾苗金融】您好")


def test_an_unknown_provider_names_the_key_and_what_is_installed() -> None:
    with pytest.raises(ConfigError) as caught:
        registry.load("carrier-pigeon", "providers.sms")
    assert caught.value.key == "providers.sms"
    assert "installed: console, fcm, file, http, recording, twilio" in caught.value.reason


def test_options_are_validated_by_the_provider_and_name_their_key() -> None:
    with pytest.raises(ConfigError) as caught:
        registry.build("file", {"pth": "x.jsonl"}, "providers.sms")
    assert caught.value.key == "providers.file.pth"


def test_the_console_provider_prints_with_the_number_masked() -> None:
    stream = io.StringIO()
    receipt = ConsoleProvider(stream=stream).send(SMS)
    assert receipt.provider == "console"
    assert "138****8000" in stream.getvalue()
    assert "13800138000" not in stream.getvalue()


def test_the_file_provider_appends_one_json_line_per_message(tmp_path: Path) -> None:
    provider = FileProvider(FileOptions(path=tmp_path / "out" / "sent.jsonl"))
    provider.send(SMS)
    provider.send(Envelope(key="rk1_b", channel=Channel.PUSH, to="tok", title="提醒", body="您好"))
    lines = [
        json.loads(line) for line in (tmp_path / "out" / "sent.jsonl").read_text().splitlines()
    ]
    assert [(line["key"], line["to"]) for line in lines] == [
        ("rk1_a", "+8613800138000"),
        ("rk1_b", "tok"),
    ]


class _Batch(Provider):
    name = "batch"
    channels = frozenset(Channel)
    batch_size = 3

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def send(self, envelope: Envelope) -> Receipt:  # pragma: no cover - send_batch is used
        raise AssertionError

    def send_batch(self, envelopes: object) -> list[Receipt | Exception]:  # type: ignore[override]
        keys = [e.key for e in envelopes]  # type: ignore[attr-defined]
        self.batches.append(keys)
        answers: list[Receipt | Exception] = []
        for key in keys:
            if key == "dead":
                answers.append(PermanentDeliveryError("unregistered", code="UNREGISTERED"))
            elif key == "busy" and len(self.batches) == 1:
                answers.append(TransientDeliveryError("unavailable", code="UNAVAILABLE"))
            else:
                answers.append(Receipt(provider="batch", provider_message_id=f"id-{key}"))
        return answers


def test_a_batch_with_mixed_answers_retries_only_the_transient_ones() -> None:
    provider = _Batch()
    envelopes = [Envelope(key=k, channel=Channel.PUSH, to="t") for k in ("ok", "dead", "busy")]
    answers = deliver(
        provider,
        envelopes,
        limiter=RateLimiter(None),
        policy=RetryPolicy(attempts=3, sleep=lambda _: None),
    )
    assert provider.batches == [["ok", "dead", "busy"], ["busy"]]
    assert isinstance(answers[0], Receipt)
    assert isinstance(answers[1], PermanentDeliveryError)
    assert isinstance(answers[2], Receipt)


PLUGIN = """
from pathlib import Path
from remindkit.models import Channel
from remindkit.providers.base import Provider, ProviderOptions, Receipt


class Options(ProviderOptions):
    outbox: Path


class AcmeSmsProvider(Provider):
    name = "acme-sms"
    channels = frozenset({Channel.SMS, Channel.PUSH})
    Options = Options

    def send(self, envelope):
        with self.options.outbox.open("a", encoding="utf-8") as handle:
            handle.write(envelope.key + "\\n")
        return Receipt(provider=self.name, provider_message_id="acme-" + envelope.key[-6:])
"""


def install_plugin(tmp_path: Path) -> Path:
    """Install a separate distribution that registers ``acme-sms``, laid out as pip lays out
    a wheel (the package and its ``.dist-info`` with ``entry_points.txt``), offline."""
    site = tmp_path / "site"
    (site / "acme_gateway").mkdir(parents=True)
    (site / "acme_gateway" / "__init__.py").write_text(PLUGIN, encoding="utf-8")
    info = site / "acme_gateway-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-gateway\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[remindkit.providers]\nacme-sms = acme_gateway:AcmeSmsProvider\n", encoding="utf-8"
    )
    (info / "INSTALLER").write_text("pip\n", encoding="utf-8")
    (info / "RECORD").write_text(
        "acme_gateway/__init__.py,,\nacme_gateway-1.0.dist-info/METADATA,,\n"
        "acme_gateway-1.0.dist-info/entry_points.txt,,\nacme_gateway-1.0.dist-info/RECORD,,\n",
        encoding="utf-8",
    )
    return site


def test_a_provider_from_another_installed_package_sends_through_run_once(
    tmp_path: Path, store_url: str
) -> None:
    site = install_plugin(tmp_path)
    delivered = tmp_path / "acme.txt"
    config = tmp_path / "remindkit.toml"
    config.write_text(
        PLATFORM_TOML + '[providers]\nsms = "acme-sms"\npush = "acme-sms"\n\n'
        f'[providers.acme-sms]\noutbox = "{delivered}"\n',
        encoding="utf-8",
    )
    feed = tmp_path / "feed.csv"
    message = planned()
    feed.write_text(
        "loan_id,borrower_id,name,gender,phone,amount_due,due_date\n"
        "L1,B1,王芳,female,13800138000,100.00,2026-12-02\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "remindkit", "run", "--once", "--feed", str(feed), "--config",
         str(config), "--store", store_url, "--at", "2026-12-01T10:00:00+08:00"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert delivered.read_text(encoding="utf-8").split() == [message.key]


def test_a_plugin_that_fails_to_import_is_a_config_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken_gateway.py"
    broken.write_text("raise RuntimeError('missing SDK')\n", encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    registry.available.cache_clear()
    try:
        original = dict(registry.BUILTIN)
        registry.BUILTIN["broken"] = "broken_gateway:Provider"
        with pytest.raises(
            ConfigError, match=r"provider 'broken' .* failed to import: RuntimeError: missing SDK"
        ):
            registry.load("broken", "providers.sms")
    finally:
        registry.BUILTIN.clear()
        registry.BUILTIN.update(original)
        registry.available.cache_clear()
        sys.path.remove(str(tmp_path))
