from datetime import time

import pytest

from remindkit.config import default_settings
from remindkit.models import Channel
from remindkit.policy.cadence import Cadence, CadenceStep


def test_default_profile_from_settings_is_spec_5_2() -> None:
    cadence = Cadence.from_settings(default_settings().cadence)
    steps = cadence.steps("default")
    assert [(s.offset_days, s.channels) for s in steps] == [
        (-3, (Channel.PUSH,)),
        (-1, (Channel.SMS,)),
        (0, (Channel.PUSH, Channel.SMS)),
        (1, (Channel.SMS,)),
        (3, (Channel.SMS,)),
        (7, (Channel.SMS,)),
        (15, (Channel.SMS,)),
        (30, (Channel.SMS,)),
    ]
    assert {s.send_time for s in steps} == {time(10)}


def test_segments_select_profiles_and_unknown_ones_fall_back() -> None:
    step = CadenceStep(offset_days=-1, channels=(Channel.SMS,), send_time=time(9))
    cadence = Cadence(profiles={"default": (step,), "vip": (step,)})
    assert cadence.profile_name("vip") == "vip"
    assert cadence.profile_name(None) == "default"
    assert cadence.profile_name("gold") == "default"
    assert cadence.is_unknown("gold")
    assert not cadence.is_unknown(None)
    assert not cadence.is_unknown("vip")


def test_cadence_needs_a_default_profile_and_steps_need_channels() -> None:
    with pytest.raises(ValueError, match="default"):
        Cadence(profiles={})
    with pytest.raises(ValueError, match="channel"):
        CadenceStep(offset_days=1, channels=(), send_time=time(10))
