"""The gunicorn worker of `attribution serve`: one asyncio loop reads requests (front.py),
a pool of `threads` threads runs the Flask app on complete requests.

gunicorn's master still forks, watches and restarts the workers (its `timeout` is fed by
a heartbeat every second) and preloads the app; this worker only replaces how a
connection is read and answered. At most `worker_connections` connections are open per
worker (past that a new one is answered 503 and closed). SIGTERM stops accepting, lets
requests in flight finish for up to `graceful_timeout` s, then exits.
"""

from __future__ import annotations

import asyncio
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gunicorn.workers.base import Worker

from attribution.web.front import Front, Limits, serve_connection


class FrontWorker(Worker):
    """gunicorn worker: an asyncio front before a thread pool."""

    def run(self) -> None:
        asyncio.run(self._main())

    def handle_quit(self, sig: int, frame: Any) -> None:
        self.alive = False  # the loop notices within a second, then stops quickly

    async def _main(self) -> None:
        pool = ThreadPoolExecutor(max(1, self.cfg.threads), thread_name_prefix="attribution")
        front = self._front(pool)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await serve_connection(front, reader, writer)

        servers = [
            await asyncio.start_server(handle, sock=_listening(s), limit=64 * 1024)
            for s in self.sockets
        ]
        try:
            await self._heartbeat()
        finally:
            for server in servers:
                server.close()
            await self._drain(front)
            pool.shutdown(wait=False, cancel_futures=True)

    def _front(self, pool: ThreadPoolExecutor) -> Front:
        settings = self.wsgi.extensions["attribution"].settings
        host, port = _address(self.sockets[0])
        limits = Limits.of(settings, keepalive_s=float(self.cfg.keepalive))
        return Front(self.wsgi, pool, limits, host, port, self.cfg.worker_connections)

    async def _heartbeat(self) -> None:
        while self.alive:
            self.notify()
            if self.ppid != os.getppid():
                self.log.info("Parent changed, shutting down: %s", self)
                return
            await asyncio.sleep(1.0)

    async def _drain(self, front: Front) -> None:
        """Wait for requests in flight, up to the graceful timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.cfg.graceful_timeout
        while front.in_flight and loop.time() < deadline:
            self.notify()
            await asyncio.sleep(0.05)


def _listening(listener: Any) -> socket.socket:
    sock: socket.socket = getattr(listener, "sock", listener)
    return sock


def _address(listener: Any) -> tuple[str, int]:
    name = _listening(listener).getsockname()
    if isinstance(name, tuple):
        return str(name[0]), int(name[1])
    return str(name), 0
