"""The fakes and factories remindkit ships for its users' tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from remindkit.errors import FieldError
from remindkit.testing import FrozenClock, demo_platform, demo_settings, make_installment

NOW = datetime.fromisoformat("2026-12-01T10:00:00+08:00")


def test_frozen_clock_stands_still_until_moved() -> None:
    clock = FrozenClock(NOW)
    assert clock.now() == clock.now() == NOW
    clock.advance(timedelta(hours=2))
    assert clock.now() == datetime.fromisoformat("2026-12-01T12:00:00+08:00")
    clock.set(datetime.fromisoformat("2027-01-01T00:00:00+00:00"))
    assert clock.now().isoformat() == "2027-01-01T00:00:00+00:00"


def test_frozen_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        FrozenClock(datetime(2026, 12, 1, 10))  # noqa: DTZ001 - the point of the test
    clock = FrozenClock(NOW)
    with pytest.raises(ValueError, match="must be timezone-aware"):
        clock.set(datetime(2026, 12, 1, 10))  # noqa: DTZ001


def test_make_installment_validates_like_a_feed_row() -> None:
    item = make_installment(amount_due="980", phone="+8613912345678")
    assert item.amount_due == Decimal("980.00")
    assert item.borrower.phone == "+8613912345678"
    with pytest.raises(FieldError) as caught:
        make_installment(phone="12345")
    assert str(caught.value) == "phone: not a valid mobile number"


def test_demo_settings_sign_with_the_sample_lender_and_take_fields() -> None:
    settings = demo_settings(locale="zh_HK")
    assert settings.require_platform() == demo_platform()
    assert settings.locale == "zh_HK"


def test_demo_platform_is_the_sample_lender_with_overrides() -> None:
    assert demo_platform().signature == "禾苗金融"
    assert demo_platform(hotline="95000").hotline == "95000"
    assert demo_platform(hotline="95000").app_name == "禾苗金融App"
