"""Serving an app with uvicorn: on a socket bound first, so port 0 gives a known port.

``serve`` blocks until Ctrl-C / SIGTERM (uvicorn's own handling); ``running_server``
runs an app in a background thread for tests and benchmarks and stops it on exit. Access
logs are off: a request line may carry the ``?token=`` of the link printed at start-up.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

LOOPBACK = "127.0.0.1"
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Bound:
    """A listening socket and the address it got."""

    sock: socket.socket
    host: str
    port: int

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def bind(host: str = LOOPBACK, port: int = 0) -> Bound:
    """A socket listening on ``host:port``; port 0 picks a free one. Raises ``OSError``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off only on sockets whose proto says TCP
    # (a plain socket() says 0), and with Nagle on, every keep-alive answer of headers and
    # body waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return Bound(sock, host, sock.getsockname()[1])


class _Server(uvicorn.Server):
    """uvicorn's server, calling ``on_started`` once it accepts connections (its signal
    handlers are in place by then, so Ctrl-C right after the announcement stops it)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None) -> None:
        super().__init__(config)
        self.on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.on_started is not None and not self.should_exit:
            self.on_started()


def _server(app: ASGIApp, on_started: Callable[[], None] | None = None) -> _Server:
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", server_header=False
    )
    return _Server(config, on_started)


class _StoppedError(Exception):
    """SIGTERM, re-raised by uvicorn after its graceful shutdown."""


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise _StoppedError


def serve(app: ASGIApp, bound: Bound, on_started: Callable[[], None] | None = None) -> None:
    """Serve ``app`` on ``bound`` until Ctrl-C or SIGTERM, then return; ``on_started``
    runs once the server accepts connections (announce the address there).

    uvicorn shuts down gracefully on either signal and then raises it again for the
    previous handler: here that handler ends ``serve`` quietly, so the command exits 0.
    """
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stopped) if in_main else None
    try:
        _server(app, on_started).run(sockets=[bound.sock])
    except (KeyboardInterrupt, _StoppedError):
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def running_server(app: ASGIApp, host: str = LOOPBACK, port: int = 0) -> Iterator[str]:
    """Serve ``app`` on ``host:port`` (0: a free port) in a thread; yields the base URL."""
    bound = bind(host, port)
    server = _server(app)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [bound.sock]}, name="remindkit-web", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield bound.base_url
    finally:
        server.should_exit = True
        thread.join(_STOP_TIMEOUT)
        bound.sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the web server stopped while starting")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the web server did not start within {_START_TIMEOUT:.0f} s")
        time.sleep(0.01)
