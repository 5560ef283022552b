"""`attribution serve`: the app under gunicorn, for production.

- The app (and so the index) is created once in the master before the workers fork
  (preload): imports and the index check happen once, and a broken index stops the
  start with one clear line. Each worker re-opens the memory-mapped index after the fork
  (SQLite connections must not cross one); the mapped pages stay shared through the
  page cache.
- Workers: FrontWorker (web/frontworker.py), as many as cores by default (see
  default_workers and web/README.md for the measurement behind it). Each reads requests
  in one asyncio loop with deadlines (web/front.py: headers within 10 s, the body within
  15 s, idle keep-alive 5 s, at most 1000 connections; ATTRIBUTION_HEAD_TIMEOUT_MS, ...
  in settings.py) and runs the app on complete requests only, in DEFAULT_THREADS
  threads: slow clients hold no thread.
- Every query has a time budget (ATTRIBUTION_QUERY_TIMEOUT_MS, web/deadline.py): past
  it the query is stopped and the answer is 503 {"error": {"code": "timeout"}}.
- SIGTERM (or Ctrl+C) is a graceful stop: no new connections, requests in flight finish
  (up to GRACEFUL_TIMEOUT s), then the workers and the master exit.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

DEFAULT_THREADS = 4
GRACEFUL_TIMEOUT = 20
WORKER_CLASS = "attribution.web.frontworker.FrontWorker"


def default_workers() -> int:
    """One worker per core: queries are CPU-bound Python, so the GIL makes processes, not
    threads, the unit of parallel work; threads only overlap I/O and slow clients."""
    return max(1, os.cpu_count() or 1)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


class Server(BaseApplication):
    """gunicorn running one already-created Flask app."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def _when_ready(server: Any) -> None:
    host, port = server.LISTENERS[0].sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    workers, threads = server.cfg.workers, server.cfg.threads
    print(
        f"attribution: serving on http://{shown}:{port}/ ({workers} worker"
        f"{'s' if workers != 1 else ''} x {threads} thread{'s' if threads != 1 else ''}, "
        f"pid {os.getpid()})",
        flush=True,
    )


def options(
    app: Flask, host: str, port: int, workers: int | None, threads: int | None
) -> dict[str, Any]:
    """gunicorn's settings for the service."""
    settings = app.extensions["attribution"].settings
    budget_s = max(settings.query_timeout_ms, settings.batch_timeout_ms) / 1000.0

    def post_fork(server: Any, worker: Any) -> None:
        app.extensions["attribution"].index.get()  # open this worker's own connections now

    return {
        "bind": bind_address(host, port),
        "workers": workers or default_workers(),
        "worker_class": WORKER_CLASS,
        "threads": threads or DEFAULT_THREADS,
        "worker_connections": settings.max_connections,
        "preload_app": True,
        "timeout": max(30, math.ceil(budget_s) + 15),  # only a stuck worker gets here
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "keepalive": 5,
        "when_ready": _when_ready,
        "post_fork": post_fork,
        "proc_name": "attribution",
        "errorlog": "-",
        "loglevel": "warning",
    }


def serve(app: Flask, host: str, port: int, workers: int | None, threads: int | None) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    Server(app, options(app, host, port, workers, threads)).run()
    sys.stdout.flush()
    return 0
