"""Delivery receipts through the service's HTTP side: Twilio status callbacks signed by the
SDK's own code, and the ``http`` gateway's JSON receipts; refused ones change nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from urllib.parse import urlencode

import pytest
from conftest import T0, OutboxFactory, planned
from sqlalchemy import update
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from remindkit.config_service import GatewayReceipts, ReceiptsSettings, TwilioReceipts
from remindkit.metrics import ServiceMetrics
from remindkit.outbox.schema import messages
from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox
from remindkit.service_web import ServiceApp
from remindkit.testing import demo_settings

TOKEN = "test-auth-token-0123456789abcdef"
SECRET = "gateway-shared-secret-0123456789"
URL = "https://hooks.example.cn/receipts/twilio"
SID = "SM" + "a1" * 16


def sent(outbox: Outbox, borrower: str, provider: str, provider_id: str) -> str:
    message = planned(borrower)
    outbox.enqueue([message], now=T0)
    with outbox.transaction() as connection:
        connection.execute(
            update(messages)
            .where(messages.c.key == message.key)
            .values(state="sent", provider=provider, provider_message_id=provider_id, sent_at=T0)
        )
    return message.key


@pytest.fixture
def outbox(open_outbox: OutboxFactory) -> Outbox:
    return open_outbox()


@pytest.fixture
def client(outbox: Outbox) -> TestClient:
    settings = demo_settings(
        receipts=ReceiptsSettings(
            twilio=TwilioReceipts(url=URL),
            http=GatewayReceipts(items="reports", id="msgid", status="stat", code="err"),
        )
    )
    environ = {"TWILIO_AUTH_TOKEN": TOKEN, "REMINDKIT_RECEIPT_SECRET": SECRET}
    app = ServiceApp(settings, outbox, ServiceMetrics(outbox), environ=environ).app()
    return TestClient(app, base_url="https://hooks.example.cn")


def callback(fields: dict[str, str], *, url: str = URL, token: str = TOKEN) -> dict[str, str]:
    signature = RequestValidator(token).compute_signature(url, fields)
    return {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}


def twilio_fields(status: str, sid: str = SID, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "AccountSid": "AC" + "0" * 32,
        "To": "+8613800138000",
        "From": "+15005550006",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def post_twilio(client: TestClient, fields: dict[str, str], headers: dict[str, str]) -> int:
    return client.post("/receipts/twilio", content=urlencode(fields), headers=headers).status_code


def test_a_signed_callback_is_recorded_as_an_event_and_on_the_message(
    client: TestClient, outbox: Outbox
) -> None:
    key = sent(outbox, "B1", "twilio", SID)
    fields = twilio_fields("delivered")
    response = client.post("/receipts/twilio", content=urlencode(fields), headers=callback(fields))
    assert response.status_code == 200
    assert response.json() == {"recorded": 1, "ignored": 0}
    message = outbox.get(key)
    assert (message.state, message.delivery_status, message.delivery_code) == (
        MessageState.SENT, "delivered", None,
    )  # fmt: skip
    assert message.delivered_at is not None
    event = outbox.history(key)[-1]
    assert (event.from_state, event.to_state) == (MessageState.SENT, MessageState.SENT)
    assert event.reason == "receipt: delivered"
    assert event.detail["raw"] == {"MessageStatus": "delivered"}  # no phone numbers kept


def test_undelivered_keeps_the_carriers_code_and_status_only_moves_forward(
    client: TestClient, outbox: Outbox
) -> None:
    key = sent(outbox, "B1", "twilio", SID)
    for fields in (
        twilio_fields("undelivered", ErrorCode="30003"),
        twilio_fields("sent"),  # late and out of order: recorded, but does not undo
    ):
        assert post_twilio(client, fields, callback(fields)) == 200
    message = outbox.get(key)
    assert (message.delivery_status, message.delivery_code) == ("undelivered", "30003")
    assert [e.reason for e in outbox.history(key)][-2:] == [
        "receipt: undelivered [30003]",
        "receipt: sent",
    ]


def test_unsigned_wrongly_signed_replayed_and_malformed_callbacks_change_nothing(
    client: TestClient, outbox: Outbox
) -> None:
    key = sent(outbox, "B1", "twilio", SID)
    before = outbox.history(key)
    fields = twilio_fields("delivered")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    missing_status = {k: v for k, v in fields.items() if k not in ("MessageStatus", "SmsStatus")}
    cases = [
        (fields, form, 403),  # unsigned
        (fields, callback(fields, token="another-account-token-000000"), 403),
        (fields, callback(fields, url="https://other.example.cn/receipts/twilio"), 403),
        ({**fields, "MessageStatus": "undelivered"}, callback(fields), 403),  # tampered
        (missing_status, callback(missing_status), 400),
        (twilio_fields("exploded"), callback(twilio_fields("exploded")), 400),
    ]
    for body, headers, expected in cases:
        assert post_twilio(client, body, headers) == expected, (body, headers)
    not_a_form = client.post(
        "/receipts/twilio", content=b"\xff\xfe{", headers=callback(fields)
    ).status_code
    assert not_a_form == 400
    assert outbox.history(key) == before
    assert outbox.get(key).delivery_status is None


def test_a_receipt_for_an_unknown_message_is_logged_and_ignored(
    client: TestClient, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    key = sent(outbox, "B1", "twilio", SID)
    fields = twilio_fields("delivered", sid="SM" + "ff" * 16)
    with caplog.at_level(logging.WARNING, logger="remindkit.receipts"):
        response = client.post(
            "/receipts/twilio", content=urlencode(fields), headers=callback(fields)
        )
    assert response.status_code == 200
    assert response.json() == {"recorded": 0, "ignored": 1}
    assert "unknown message id" in caplog.text
    assert outbox.get(key).delivery_status is None


def gateway(client: TestClient, body: object, *, secret: str = SECRET) -> int:
    content = json.dumps(body).encode()
    return client.post(
        "/receipts/http", content=content, headers={"X-Receipt-Token": secret}
    ).status_code


def test_gateway_receipts_in_the_configured_format(client: TestClient, outbox: Outbox) -> None:
    first = sent(outbox, "B1", "http", "gw-1001")
    second = sent(outbox, "B2", "http", "gw-1002")
    body = {
        "reports": [
            {"msgid": "gw-1001", "stat": "DELIVRD"},
            {"msgid": "gw-1002", "stat": "UNDELIV", "err": "MK:0012"},
            {"msgid": "gw-9999", "stat": "DELIVRD"},  # not ours: ignored
        ]
    }
    assert gateway(client, body) == 200
    assert outbox.get(first).delivery_status == "delivered"
    assert (outbox.get(second).delivery_status, outbox.get(second).delivery_code) == (
        "undelivered", "MK:0012",
    )  # fmt: skip


def test_gateway_receipts_refused_change_nothing(client: TestClient, outbox: Outbox) -> None:
    key = sent(outbox, "B1", "http", "gw-1001")
    good = {"reports": [{"msgid": "gw-1001", "stat": "DELIVRD"}]}
    bad_word = {"reports": [{"msgid": "gw-1001", "stat": "DELIVRD"}, {"msgid": "x", "stat": "?"}]}
    assert gateway(client, good, secret="wrong-secret") == 403
    assert gateway(client, bad_word) == 400  # all or nothing: the good one is not recorded
    assert gateway(client, {"reports": "nope"}) == 400
    assert outbox.get(key).delivery_status is None
    assert outbox.history(key) == []  # enqueue writes no event; nor did any receipt


def test_gateway_hmac_signature(outbox: Outbox) -> None:
    key = sent(outbox, "B1", "http", "gw-1001")
    options = GatewayReceipts(auth="hmac-sha256", header="X-Signature")
    settings = demo_settings(receipts=ReceiptsSettings(http=options))
    environ = {"REMINDKIT_RECEIPT_SECRET": SECRET}
    app = ServiceApp(settings, outbox, ServiceMetrics(outbox), environ=environ).app()
    client = TestClient(app, base_url="http://127.0.0.1")
    body = json.dumps({"id": "gw-1001", "status": "DELIVRD"}).encode()
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    for signature, expected in (("0" * 64, 403), (digest, 200)):
        response = client.post("/receipts/http", content=body, headers={"X-Signature": signature})
        assert response.status_code == expected
    assert outbox.get(key).delivery_status == "delivered"
    metrics = client.get("/metrics").text
    assert 'remindkit_receipts_total{provider="http",status="delivered"} 1.0' in metrics
    assert 'remindkit_receipts_refused_total{reason="bad_signature"} 1.0' in metrics
    assert client.get("/healthz").json()["status"] == "ok"


def test_status_and_outbox_show_tell_the_receipts(client: TestClient, outbox: Outbox) -> None:
    from typer.testing import CliRunner

    from remindkit.cli import _register, app

    _register(None)
    key = sent(outbox, "B1", "twilio", SID)
    fields = twilio_fields("undelivered", ErrorCode="30005")
    assert post_twilio(client, fields, callback(fields)) == 200
    runner = CliRunner()
    url = outbox.engine.url.render_as_string(hide_password=False)
    status = runner.invoke(app, ["status", "--store", url, "--format", "json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["delivery"] == {"undelivered": 1}
    shown = runner.invoke(app, ["outbox", "show", key, "--store", url])
    assert shown.exit_code == 0, shown.output
    assert "undelivered" in shown.stdout
    assert "30005" in shown.stdout
    assert "receipt: undelivered" in shown.stdout  # the event (the table may wrap the code)
