"""Putting the service together: logs, the scheduler, metrics and the HTTP side.

:func:`run_daemon` is what ``remindkit run`` (without ``--once``) calls: it configures the
masked logs, opens the store and providers (a configuration problem exits 2 before anything
runs), serves ``/healthz``, ``/metrics`` and the receipt endpoints on
``[service] http_host:http_port`` in a background thread, and runs :class:`Service` until
SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path

from remindkit.errors import RemindkitError
from remindkit.kit import Kit
from remindkit.logs import configure_logging
from remindkit.service import EXIT_OK, Service, exit_now

log = logging.getLogger("remindkit.service")
EXIT_CONFIG = 2


def run_daemon(kit: Kit, feed: Path | None = None) -> int:
    """Run the service until stopped; the process's exit code."""
    options = kit.settings.service
    configure_logging(options.log_format, options.log_level)
    try:
        code = _run(kit, feed)
    except RemindkitError as exc:
        log.error("cannot start: %s", exc)
        return EXIT_CONFIG
    if code != EXIT_OK:
        exit_now(code)  # threads may be stuck in a provider call: do not wait for them
    return code


def _run(kit: Kit, feed: Path | None) -> int:
    from remindkit.metrics import ServiceMetrics  # noqa: PLC0415 - the service extra
    from remindkit.service_web import ServiceApp  # noqa: PLC0415
    from remindkit.web import running_server  # noqa: PLC0415

    options = kit.settings.service
    service = Service(kit, feed=feed)
    with kit, ExitStack() as stack:
        service.prepare()
        metrics = ServiceMetrics(kit.outbox)
        service.observers.append(metrics)
        if options.http_port >= 0:
            app = ServiceApp(
                kit.settings,
                kit.outbox,
                metrics,
                running=lambda: not service.stopping.is_set(),
            ).app()
            try:
                base = stack.enter_context(
                    running_server(app, options.http_host, options.http_port)
                )
            except OSError as exc:
                raise _config_error(options.http_host, options.http_port, exc) from exc
            log.info("http: %s (/healthz, /metrics, /receipts/…)", base)
        return service.run()


def _config_error(host: str, port: int, exc: OSError) -> RemindkitError:
    from remindkit.errors import ConfigError  # noqa: PLC0415

    return ConfigError("service.http_port", f"cannot listen on {host}:{port}: {exc.strerror}")
