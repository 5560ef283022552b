"""The full `attribution` command: index/cli.py's commands plus `serve` and
`check --server URL` (client mode)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from index import cli
from index.format import read_manifest
from index.render import render_result
from web.client import attribute_remote, check_url
from web.settings import SettingsError


def cmd_serve(args: argparse.Namespace) -> int:
    from web.app import create_app  # the web stack loads only for serve
    from web.serve import serve

    root = args.index or cli.default_index()
    read_manifest(Path(root))  # a missing or broken index: one line on stderr, exit 2
    try:
        app = create_app(root)
    except SettingsError as err:
        print(f"attribution: error: {err}", file=sys.stderr)
        return cli.EXIT_ERROR
    return serve(app, args.host, args.port, args.workers, args.threads)


def cmd_check(args: argparse.Namespace) -> int:
    """`check` against an index, or with --server against a running service."""
    if not args.server:
        return cli.cmd_check(args)
    check_url(args.server)
    data = cli.read_query(args.file)
    result = attribute_remote(
        args.server,
        data,
        language=args.language,
        filename=None if args.file == "-" else args.file,
        top=args.top,
        min_tokens=args.min_tokens,
    )
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        name = "<stdin>" if args.file == "-" else args.file
        sys.stdout.write(render_result(name, result, colour=sys.stdout.isatty()))
    return cli.EXIT_FINDINGS if result["matches"] else cli.EXIT_CLEAN


def add_web_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`serve`, and `--server` on `check`."""
    p = commands.add_parser("serve", help="serve the HTTP API and the web page (gunicorn)")
    p.add_argument(
        "--index", default=None, help="index directory ($ATTRIBUTION_INDEX or ./.attribution-index)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: one per core)"
    )
    p.add_argument("--threads", type=int, default=None, help="threads per worker (default 4)")
    check = commands.choices["check"]
    check.add_argument(
        "--server", default=None, metavar="URL", help="ask a running service instead of an index"
    )


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    **cli.COMMANDS,
    "check": cmd_check,
    "serve": cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `attribution` console script; returns the exit code."""
    parser, commands = cli.build_parser()
    add_web_commands(commands)
    return cli.run(parser.parse_args(argv), COMMANDS)


if __name__ == "__main__":
    raise SystemExit(main())
