"""Bearer tokens (kept only as SHA-256 hashes) and the admin rate limit."""

from __future__ import annotations

import hmac
import threading
import time

from flask import Request

from attribution.web.errors import ApiError
from attribution.web.settings import digest

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="attribution"'}


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def matches(token: str, sha256: str | None) -> bool:
    """Constant-time comparison of a token with a stored hash."""
    return sha256 is not None and hmac.compare_digest(digest(token), sha256)


def require(request: Request, *hashes: str | None, what: str) -> None:
    """401 without a bearer token, 403 with one that matches none of the hashes."""
    token = bearer(request)
    if token is None:
        raise ApiError(
            401, "unauthorized", f"{what} needs `Authorization: Bearer <token>`", _CHALLENGE
        )
    if not any(matches(token, h) for h in hashes):
        raise ApiError(403, "forbidden", f"the token is not valid for {what}")


class TokenBucket:
    """At most `burst` requests at once, refilled at `burst` per `period` seconds."""

    def __init__(self, burst: int, period: float) -> None:
        self.capacity = float(burst)
        self.rate = burst / period if period > 0 else float("inf")
        self.tokens = float(burst)
        self._clock = time.monotonic
        self.last = self._clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """0 when a request may go on, else the seconds until one may."""
        with self._lock:
            now = self._clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / self.rate

    def check(self) -> None:
        """Raise 429 (with Retry-After) when the bucket is empty."""
        wait = self.take()
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                f"too many admin requests; try again in {wait:.0f} s",
                {"Retry-After": str(max(1, round(wait)))},
            )
