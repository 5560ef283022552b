"""The query service (HTTP API of SPEC.md) and its web page.

`create_app` is re-exported lazily, so `attribution check` (web/cli.py) does not load the
web stack (Flask, spectree, pydantic) unless it serves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attribution.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from attribution.web.app import create_app

        return create_app
    raise AttributeError(f"module 'web' has no attribute {name!r}")
