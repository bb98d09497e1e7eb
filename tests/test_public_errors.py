"""Every public entry point, given wrong values, raises a ``remindkit.errors`` type naming the
place (the key, field, argument or template), or ``TypeError`` for a wrong argument type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import remindkit
from remindkit import (
    ArgumentError,
    ConfigError,
    FieldError,
    InputError,
    Kit,
    MessageContext,
    PlatformSettings,
    Settings,
    TemplateNotFoundError,
    load_settings,
    measure_sms,
    parse_installment,
    read_feed,
)
from remindkit.lint import lint_report
from remindkit.plan import Planner
from remindkit.testing import FrozenClock, demo_settings, make_installment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
NOW = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
NAIVE = datetime(2026, 12, 1, 10)  # noqa: DTZ001 - the wrong value under test
ROW = {"loan_id": "L1", "borrower_id": "B1", "name": "王芳", "phone": "13800138000",
       "amount_due": "100.00", "due_date": "2026-12-02"}  # fmt: skip
PLATFORM = {"name": "青禾", "signature": "青禾金融", "hotline": "95188", "app_name": "青禾App",
            "repay_url": "https://qh.example.cn"}  # fmt: skip


def kit() -> Kit:
    return Kit(demo_settings(), templates=TEMPLATES, clock=FrozenClock(NOW))


Case = tuple[str, Callable[[], Any], type[Exception], str]
NO_PLATFORM = Kit(templates=TEMPLATES)
CASES: list[Case] = [
    # name, call, the error, the place its message names
    ("Kit(path)", lambda: Kit("config/remindkit.toml"),  # type: ignore[arg-type]
     TypeError, "Kit.from_config"),
    ("Kit(templates=missing)", lambda: Kit(templates=Path("/missing")),
     ArgumentError, "templates"),
    ("Kit(templates=42)", lambda: Kit(templates=42),  # type: ignore[arg-type]
     TypeError, "templates"),
    ("Kit(Settings(templates_dir=missing))", lambda: Kit(Settings(templates_dir=Path("/m"))),
     ConfigError, "templates.dir"),
    ("Kit.from_config(missing)", lambda: Kit.from_config("/missing.toml"),
     ConfigError, "/missing.toml"),
    ("Kit.from_config(42)", lambda: Kit.from_config(42),  # type: ignore[arg-type]
     TypeError, "path"),
    ("plan without platform", lambda: NO_PLATFORM.plan([ROW], at=NOW),
     ConfigError, "platform"),
    ("render without platform", lambda: NO_PLATFORM.render("pre_due/sms", ROW, now=NOW),
     ConfigError, "platform"),
    ("plan(at=naive)", lambda: kit().plan([ROW], at=NAIVE), ArgumentError, "at"),
    ("plan(days=0)", lambda: kit().plan([ROW], days=0), ArgumentError, "days"),
    ("plan(days='2')", lambda: kit().plan([ROW], days="2"),  # type: ignore[arg-type]
     TypeError, "days"),
    ("plan(42)", lambda: kit().plan(42), TypeError, "feed"),  # type: ignore[arg-type]
    ("plan(one mapping)", lambda: kit().plan(ROW), TypeError, "feed"),  # type: ignore[arg-type]
    ("plan(missing file)", lambda: kit().plan("/missing.csv"), InputError, "/missing.csv"),
    ("plan(unknown format)", lambda: kit().plan("loans.xlsx"), InputError, "loans.xlsx"),
    ("render(unknown id)", lambda: kit().render("nope/sms", ROW),
     TemplateNotFoundError, "nope/sms"),
    ("render(no installments)", lambda: kit().render("pre_due/sms", []),
     ArgumentError, "installments"),
    ("render(bad row)", lambda: kit().render("pre_due/sms", {**ROW, "amount_due": "-1"}),
     FieldError, "amount_due"),
    ("render(42)", lambda: kit().render("pre_due/sms", 42),  # type: ignore[arg-type]
     TypeError, "installments"),
    ("render(now=naive)", lambda: kit().render("pre_due/sms", ROW, now=NAIVE),
     ArgumentError, "now"),
    ("Settings(window=07:00)", lambda: Settings(window={"start": "07:00"}),
     ConfigError, "window.start"),
    ("Settings(caps=0)", lambda: Settings(caps={"per_borrower_per_day": 0}),
     ConfigError, "caps.per_borrower_per_day"),
    ("Settings(unknown)", lambda: Settings(windows={}), ConfigError, "windows"),
    ("Settings(platform incomplete)", lambda: Settings(platform={"name": "x"}),
     ConfigError, "platform.signature"),
    ("PlatformSettings(offers)", lambda: PlatformSettings(**PLATFORM, offers=("打折",)),
     ConfigError, "offers[0]"),
    ("PlatformSettings(neutral)", lambda: PlatformSettings(**PLATFORM, neutral_address="先生"),
     ConfigError, "neutral_address"),
    ("PlatformSettings.model_validate",
     lambda: PlatformSettings.model_validate({**PLATFORM, "signature": "【x】"}),
     ConfigError, "signature"),
    ("load_settings(missing)", lambda: load_settings(Path("/missing.toml")),
     ConfigError, "/missing.toml"),
    ("parse_installment(bad)", lambda: parse_installment({**ROW, "due_date": "tomorrow"}),
     FieldError, "due_date"),
    ("read_feed(unknown)", lambda: read_feed(Path("loans.txt")), InputError, "loans.txt"),
    ("MessageContext(empty)", lambda: MessageContext(installments=(), now=NOW),
     ArgumentError, "installments"),
    ("MessageContext(naive)",
     lambda: MessageContext(installments=(make_installment(),), now=NAIVE),
     ArgumentError, "now"),
    ("FrozenClock(naive)", lambda: FrozenClock(NAIVE), ArgumentError, "FrozenClock"),
    ("Planner.plan(naive)", lambda: Planner(demo_settings()).plan([], at=NAIVE),
     ArgumentError, "at"),
    ("measure_sms(42)", lambda: measure_sms(42), TypeError, "text"),  # type: ignore[arg-type]
    ("lint_report(missing)", lambda: lint_report("/missing/templates"),
     InputError, "/missing"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "call", "error", "place"), CASES, ids=[c[0] for c in CASES])
def test_wrong_values_raise_a_remindkit_error_naming_the_place(
    name: str, call: Callable[[], Any], error: type[Exception], place: str
) -> None:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is not Exception
    if error is not TypeError:
        assert isinstance(caught.value, remindkit.RemindkitError), name
    assert place in str(caught.value), (name, str(caught.value))


def test_argument_errors_are_still_value_errors() -> None:
    # Callers who caught ValueError before keep working.
    assert issubclass(ArgumentError, ValueError)
    assert issubclass(ArgumentError, remindkit.RemindkitError)
