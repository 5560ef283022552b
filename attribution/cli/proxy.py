"""`attribution proxy`: an OpenAI-compatible proxy in front of a model server that
attributes the code of every answer (SPEC.md, "Generation-time proxy")."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from attribution.cli.common import fail, index_dir
from attribution.core.policy import PolicyError
from attribution.index.format import IndexFormatError
from attribution.web.client import ServiceError


def cmd_proxy(args: argparse.Namespace) -> int:
    """Run the proxy until interrupted; 2 with one line on stderr for bad options."""
    try:
        app = build_app(args)
    except (ValueError, OSError, PolicyError, IndexFormatError, ServiceError) as err:
        return fail(str(err))
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
        attributor = Attributor(index=index_dir(args.index), top=args.top)
    audit = AuditLog(args.audit) if args.audit else None
    settings = Settings(args.mode, attributor, policy)
    return Proxy(args.upstream, settings, audit, timeout=args.timeout).app()
