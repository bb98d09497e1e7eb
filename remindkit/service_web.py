"""The service's HTTP side, on the one app factory of :mod:`remindkit.web`.

==========================  ===============================================================
``GET /healthz``            200 ``{"status": "ok"}`` while the store answers and the service
                            runs; 503 naming the problem otherwise
``GET /metrics``            Prometheus exposition (:mod:`remindkit.metrics`)
``POST /receipts/twilio``   Twilio status callbacks (``[receipts.twilio]``), signature-checked
``POST /receipts/http``     the ``http`` gateway's receipts (``[receipts.http]``)
==========================  ===============================================================

Bound to 127.0.0.1 by default: expose the receipt paths through a reverse proxy (and add its
public host name to ``service.allowed_hosts``), keep ``/metrics`` for the local scraper.
No token guards these routes: receipts carry their own proof (a signature, a shared secret),
and health and metrics hold no personal data.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from urllib.parse import urlsplit

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from remindkit.clock import SystemClock
from remindkit.config import Settings
from remindkit.errors import ConfigError, RemindkitError
from remindkit.metrics import CONTENT_TYPE, ServiceMetrics
from remindkit.outbox.database import translated
from remindkit.outbox.store import Outbox
from remindkit.receipts import DeliveryReceipt, record_receipt
from remindkit.receipts import gateway as gateway_receipts
from remindkit.receipts import twilio as twilio_receipts
from remindkit.web import LOOPBACK_HOSTS, GuardPolicy, create_app, error_response

log = logging.getLogger("remindkit.receipts")
# A status callback is a few hundred bytes; a gateway batch a few hundred kilobytes at most.
MAX_RECEIPT_BYTES = 512 * 1024


class ServiceApp:
    """The routes' state: the store, the metrics, the receipt settings and secrets."""

    def __init__(
        self,
        settings: Settings,
        outbox: Outbox,
        metrics: ServiceMetrics,
        *,
        running: Callable[[], bool] = lambda: True,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.metrics = metrics
        self.running = running
        self.clock = SystemClock()
        env = dict(os.environ if environ is None else environ)
        receipts = settings.receipts
        self.twilio: twilio_receipts.TwilioVerifier | None = None
        if receipts.twilio is not None:
            token = env.get(receipts.twilio.auth_token_env)
            if not token:
                raise ConfigError(
                    "receipts.twilio.auth_token_env",
                    f"the variable {receipts.twilio.auth_token_env} is not set: Twilio's "
                    "callbacks cannot be verified without the auth token",
                )
            self.twilio = twilio_receipts.TwilioVerifier(token)
        self.gateway_secret: str | None = None
        if receipts.http is not None:
            secret = env.get(receipts.http.secret_env)
            if not secret:
                raise ConfigError(
                    "receipts.http.secret_env",
                    f"the variable {receipts.http.secret_env} is not set: the gateway's "
                    "receipts cannot be authenticated without it",
                )
            self.gateway_secret = secret

    def app(self) -> Starlette:
        routes = [
            Route("/healthz", self.health, methods=["GET"]),
            Route("/metrics", self.scrape, methods=["GET"]),
        ]
        if self.twilio is not None:
            routes.append(Route("/receipts/twilio", self.twilio_receipt, methods=["POST"]))
        if self.gateway_secret is not None:
            routes.append(Route("/receipts/http", self.gateway_receipt, methods=["POST"]))
        return create_app(routes, self.policy())

    def twilio_url(self) -> str | None:
        """The URL Twilio signs: ``[receipts.twilio] url``, else the twilio provider's
        ``status_callback`` (the URL it asks Twilio to call)."""
        twilio = self.settings.receipts.twilio
        if twilio is not None and twilio.url:
            return twilio.url
        callback = self.settings.providers.options("twilio").get("status_callback")
        return str(callback) if callback else None

    def policy(self) -> GuardPolicy:
        hosts = set(LOOPBACK_HOSTS) | set(self.settings.service.allowed_hosts)
        url = self.twilio_url() if self.twilio is not None else None
        if url is not None:
            hosts.add((urlsplit(url).hostname or "").lower())
        return GuardPolicy(allowed_hosts=frozenset(hosts), max_body_bytes=MAX_RECEIPT_BYTES)

    # -- health and metrics -------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        if not self.running():
            return error_response(503, "the service is stopping")
        try:
            await run_in_threadpool(self._ping)
        except RemindkitError as exc:
            return error_response(503, f"store: {exc}")
        return JSONResponse({"status": "ok", "store": self.outbox.url})

    def _ping(self) -> None:
        with translated(self.outbox.engine), self.outbox.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            connection.rollback()

    async def scrape(self, request: Request) -> Response:
        body = await run_in_threadpool(self.metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE)

    # -- receipts -----------------------------------------------------------------------

    async def twilio_receipt(self, request: Request) -> Response:
        assert self.twilio is not None
        signature = request.headers.get(twilio_receipts.SIGNATURE_HEADER)
        if not signature:
            return self._refused(403, "unsigned", "X-Twilio-Signature is missing")
        body = await request.body()
        try:
            fields = twilio_receipts.form_fields(body)
        except twilio_receipts.MalformedReceiptError as exc:
            return self._refused(400, "malformed", str(exc))
        url = self.twilio_url() or str(request.url)
        settings_header = request.headers.get(twilio_receipts.SETTINGS_HEADER)
        if not self.twilio.valid(url, fields, signature, settings_header):
            return self._refused(403, "bad_signature", "the signature does not match")
        try:
            receipt = twilio_receipts.receipt_from(fields)
        except twilio_receipts.MalformedReceiptError as exc:
            return self._refused(400, "malformed", str(exc))
        return await self._record([receipt])

    async def gateway_receipt(self, request: Request) -> Response:
        options = self.settings.receipts.http
        assert options is not None
        assert self.gateway_secret is not None
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        if not gateway_receipts.authentic(options, self.gateway_secret, headers, body):
            return self._refused(403, "bad_signature", f"missing or wrong {options.header}")
        try:
            receipts = gateway_receipts.receipts_from(options, body)
        except twilio_receipts.MalformedReceiptError as exc:
            return self._refused(400, "malformed", str(exc))
        return await self._record(receipts)

    async def _record(self, receipts: list[DeliveryReceipt]) -> Response:
        recorded, ignored = await run_in_threadpool(self._record_all, receipts)
        return JSONResponse({"recorded": recorded, "ignored": ignored})

    def _record_all(self, receipts: list[DeliveryReceipt]) -> tuple[int, int]:
        recorded = ignored = 0
        for receipt in receipts:
            key = record_receipt(self.outbox, receipt, now=self.clock.now())
            if key is None:
                ignored += 1
                self.metrics.refused.labels("unknown_message").inc()
                log.warning(
                    "receipt from %s for unknown message id %s: ignored",
                    receipt.provider,
                    receipt.provider_message_id,
                )
                continue
            recorded += 1
            self.metrics.receipts.labels(receipt.provider, receipt.status.value).inc()
            log.info("receipt %s: %s", key, receipt.reason)
        return recorded, ignored

    def _refused(self, status: int, reason: str, message: str) -> Response:
        self.metrics.refused.labels(reason).inc()
        log.warning("receipt refused (%d): %s", status, message)
        return error_response(status, message)
