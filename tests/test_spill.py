"""Rows on disk: what goes to a spill comes back equal, in borrower order, and is removed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import pytest

from remindkit import spill
from remindkit.models import Channel, Gender, Installment, Status
from remindkit.spill import BorrowerRows, RowSpill, decode_group, encode
from remindkit.testing import make_installment


def installment(borrower: str, loan: str, **fields: object) -> Installment:
    return make_installment(borrower_id=borrower, loan_id=loan, **fields)


def test_every_field_comes_back_equal() -> None:
    item = make_installment(
        installment_no="3",
        installments_total="12",
        gender="",
        phone="",
        push_token="tok",
        amount_due="0.10",
        status="plan",
        product="禾苗贷",
        segment="new",
        hardship="true",
        timezone="America/Vancouver",
        opted_out="sms;push",
        branch="深圳",
    )
    (back,) = decode_group([encode(item)])
    assert back == item
    assert (back.amount_due, back.status, back.borrower.gender) == (
        Decimal("0.10"),
        Status.PLAN,
        Gender.UNKNOWN,
    )
    assert back.borrower.opted_out == {Channel.SMS, Channel.PUSH}
    assert isinstance(back.extra, MappingProxyType)


def test_rows_of_one_borrower_share_their_borrower() -> None:
    first, second = decode_group([encode(installment("B1", "L1")), encode(installment("B1", "L2"))])
    assert first.borrower is second.borrower


def test_borrowers_come_in_id_order_with_rows_in_feed_order(tmp_path: Path) -> None:
    feed = [installment(b, f"L{n}") for n, b in enumerate(["B3", "B1", "B3", "B2", "B1"])]
    rows = BorrowerRows(limit=2, directory=tmp_path)
    for item in feed:
        rows.add(item)
    groups = [[item.loan_id for item in group] for group in rows.borrowers()]
    assert groups == [["L1", "L4"], ["L3"], ["L0", "L2"]]
    assert rows.spilled_rows == 5
    rows.close()
    assert not list(tmp_path.iterdir())


def test_a_feed_sorted_by_borrower_makes_one_run(tmp_path: Path) -> None:
    rows = BorrowerRows(limit=2, directory=tmp_path)
    for n in range(9):
        rows.add(installment(f"B{n}", f"L{n}"))
    (directory,) = tmp_path.iterdir()
    assert len(list(directory.iterdir())) == 1
    assert [group[0].loan_id for group in rows.borrowers()] == [f"L{n}" for n in range(9)]
    rows.close()


def test_runs_are_merged_past_the_limit_of_open_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spill, "MAX_RUNS", 3)
    store = RowSpill(tmp_path)
    for n in reversed(range(10)):  # every batch starts a run: borrowers come in falling order
        store.write([(f"B{n}", 10 - n, encode(installment(f"B{n}", f"L{n}")))])
        (directory,) = tmp_path.iterdir()
        assert len(list(directory.iterdir())) <= 4
    assert [record[0] for record in store.merged()] == [f"B{n}" for n in range(10)]
    store.close()
    assert not list(tmp_path.iterdir())
