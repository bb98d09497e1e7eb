from datetime import date

from remindkit.models import Channel, Stage
from remindkit.policy.keys import message_key


def _key(**changes: object) -> str:
    fields: dict[str, object] = {
        "borrower_id": "b-1",
        "installments": [("L1", 1), ("L2", 3)],
        "stage": Stage.PRE_DUE,
        "day": date(2026, 12, 1),
        "channel": Channel.SMS,
    }
    fields.update(changes)
    return message_key(**fields)  # type: ignore[arg-type]


def test_key_is_stable_and_prefixed() -> None:
    assert _key() == "rk1_" + _key()[4:]
    assert len(_key()) == 4 + 32
    # Pinned: a changed key would let the outbox send a message twice after an upgrade.
    assert _key() == _key(installments=[("L2", 3), ("L1", 1)])


def test_key_pinned_value() -> None:
    assert _key() == PINNED


def test_every_component_changes_the_key() -> None:
    variants = {
        _key(),
        _key(borrower_id="b-2"),
        _key(installments=[("L1", 1)]),
        _key(stage=Stage.DUE_TODAY),
        _key(day=date(2026, 12, 2)),
        _key(channel=Channel.PUSH),
    }
    assert len(variants) == 6


def test_separators_cannot_be_forged_by_ids() -> None:
    assert _key(borrower_id="a", installments=[("b", 1)]) != _key(
        borrower_id="a,b", installments=[("", 1)]
    )


PINNED = "rk1_042f71078d4bd8270f22c7f5ba4b9cdc"
