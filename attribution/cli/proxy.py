"""`attribution proxy`: an OpenAI-compatible proxy in front of a model server that
attributes the code of every answer (SPEC.md, "Generation-time proxy")."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from attribution.cli.base import EXIT_ERROR, default_index
from attribution.core.policy import PolicyError
from attribution.index.format import IndexFormatError
from attribution.web.client import ServiceError

MODES = ("annotate", "footnote", "block")


def register(subparsers: Any, commands: dict[str, Callable[[argparse.Namespace], int]]) -> None:
    """Add `proxy` to the `attribution` parser's sub-commands and its handler to commands."""
    p = subparsers.add_parser(
        "proxy", help="OpenAI-compatible proxy that attributes the code a model returns"
    )
    p.add_argument("--upstream", required=True, metavar="URL", help="the model server's URL")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--index", default=None, help="index directory ($ATTRIBUTION_INDEX or ./.attribution-index)"
    )
    where.add_argument("--server", default=None, metavar="URL", help="a running attribution serve")
    p.add_argument("--mode", choices=MODES, default="annotate", help="how attributions are shown")
    p.add_argument("--policy", default=None, metavar="FILE", help="policy file (block mode)")
    p.add_argument("--audit", default=None, metavar="FILE", help="append one JSON line per answer")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="longest wait for the upstream to send anything (default 600)",
    )
    p.add_argument("--top", type=int, default=5, help="matches kept per block (default 5)")
    commands["proxy"] = cmd_proxy


def cmd_proxy(args: argparse.Namespace) -> int:
    """Run the proxy until interrupted; 2 with one line on stderr for bad options."""
    try:
        app = build_app(args)
    except (ValueError, OSError, PolicyError, IndexFormatError, ServiceError) as err:
        print(f"attribution: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    import uvicorn  # loads only for this command

    print(
        f"attribution proxy: http://{args.host}:{args.port}/v1 -> {args.upstream} "
        f"({args.mode} mode)",
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def build_app(args: argparse.Namespace) -> Any:
    """The proxy's ASGI app from the command's options (ValueError etc. for bad ones)."""
    from attribution.proxy import Attributor, Proxy, Settings
    from attribution.proxy.audit import AuditLog
    from attribution.scan import policyfile

    if args.mode == "block" and not args.policy:
        raise ValueError("--mode block needs --policy FILE (which licenses to hold back)")
    if args.timeout <= 0 or args.top < 1:
        raise ValueError("--timeout must be above 0 and --top at least 1")
    policy = policyfile.load(args.policy) if args.policy else None
    if args.server:
        attributor = Attributor(server=args.server, top=args.top)
    else:
        attributor = Attributor(index=args.index or default_index(), top=args.top)
    audit = AuditLog(args.audit) if args.audit else None
    settings = Settings(args.mode, attributor, policy)
    return Proxy(args.upstream, settings, audit, timeout=args.timeout).app()
