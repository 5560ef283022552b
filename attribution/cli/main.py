"""The full `attribution` command: index/cli.py's commands plus `serve`, `lsp`, `hook`,
`check --server URL` (client mode), `check --staged` / `--diff REF` and the blocking policy
(`--fail-on`, `--allow-license`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from attribution.cli import base as cli
from attribution.cli.render import render_report, render_result
from attribution.core.config import Config
from attribution.core.search import QueryError, attribute
from attribution.githooks import precommit
from attribution.index import gitdiff
from attribution.index.format import read_manifest
from attribution.index.store import Index
from attribution.web.client import attribute_remote, check_url
from attribution.web.settings import SettingsError


def cmd_serve(args: argparse.Namespace) -> int:
    from attribution.web.app import create_app  # the web stack loads only for serve
    from attribution.web.serve import serve

    root = args.index or cli.default_index()
    read_manifest(Path(root))  # a missing or broken index: one line on stderr, exit 2
    try:
        app = create_app(root)
    except SettingsError as err:
        print(f"attribution: error: {err}", file=sys.stderr)
        return cli.EXIT_ERROR
    return serve(app, args.host, args.port, args.workers, args.threads)


def _policy(args: argparse.Namespace) -> precommit.Policy | None:
    """The blocking policy when --fail-on or --allow-license was given."""
    if args.fail_on is None and not args.allow_license:
        return None
    return precommit.Policy(args.fail_on or "any", tuple(args.allow_license))


def cmd_check(args: argparse.Namespace) -> int:
    """`check` against an index or a service (--server); --staged and --diff check the
    lines a git diff adds."""
    if args.staged or args.diff:
        return cmd_check_changes(args)
    policy = _policy(args)
    if not args.server and policy is None:
        return cli.cmd_check(args)
    if args.server:
        check_url(args.server)
    data = cli.read_query(args.file)
    filename = None if args.file == "-" else args.file
    if args.server:
        result = attribute_remote(
            args.server,
            data,
            language=args.language,
            filename=filename,
            top=args.top,
            min_tokens=args.min_tokens,
        )
    else:
        overrides = {"min_tokens": args.min_tokens, "top": args.top}
        with Index(args.index or cli.default_index(), **overrides) as index:
            result = attribute(
                data, index, language=args.language, filename=filename, **_project(args)
            )
    blocking = [m for m in result["matches"] if policy is None or policy.blocks(m)]
    if policy is not None:
        for m in result["matches"]:
            m["blocking"] = policy.blocks(m)
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        name = "<stdin>" if args.file == "-" else args.file
        sys.stdout.write(render_result(name, result, colour=sys.stdout.isatty()))
        if policy is not None and result["matches"]:
            print(f"{len(blocking)} of {len(result['matches'])} blocking ({policy.describe()})")
    return cli.EXIT_FINDINGS if blocking else cli.EXIT_CLEAN


def _project(args: argparse.Namespace) -> dict[str, Any]:
    """`project_license` for attribute(), when check was given --project-license."""
    value = getattr(args, "project_license", None)
    return {"project_license": value} if value else {}


def _attributor(args: argparse.Namespace) -> tuple[precommit.Attributor, Callable[[], None]]:
    """A function attributing one file (local index or service), and how to close it."""
    limit = Config().max_query_bytes

    def too_large(data: bytes) -> None:
        if len(data) > limit:
            raise QueryError(f"too large: {len(data):,} bytes (limit {limit:,} bytes)")

    if args.server:
        server = args.server
        check_url(server)

        def remote(data: bytes, language: str | None, path: str) -> dict[str, Any]:
            too_large(data)
            return attribute_remote(
                server,
                data,
                language=language,
                filename=path,
                top=precommit.QUERY_TOP,
                min_tokens=args.min_tokens,
            )

        return remote, lambda: None
    index = Index(
        args.index or cli.default_index(), min_tokens=args.min_tokens, top=precommit.QUERY_TOP
    )

    def local(data: bytes, language: str | None, path: str) -> dict[str, Any]:
        too_large(data)
        return attribute(data, index, language=language, filename=path, **_project(args))

    return local, index.close


def cmd_check_changes(args: argparse.Namespace) -> int:
    """`check --staged` / `check --diff REF`: the added lines of each changed file."""
    if args.file != "-":
        raise QueryError("--staged and --diff check a git diff: give no FILE")
    if args.staged and args.diff:
        raise QueryError("give one of --staged and --diff REF")
    root = gitdiff.repo_root()
    changes = gitdiff.staged(root) if args.staged else gitdiff.since(root, args.diff)
    policy = _policy(args) or precommit.Policy()
    attribute_one, close = _attributor(args)
    try:
        report = precommit.check_changes(
            root,
            changes,
            attribute_one,
            policy=policy,
            language=args.language,
            mode="staged" if args.staged else "diff",
            ref=args.diff,
            top=args.top,
        )
    finally:
        close()
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        sys.stdout.write(render_report(report, colour=sys.stdout.isatty()))
    return cli.EXIT_FINDINGS if report.blocking else cli.EXIT_CLEAN


def cmd_hook(args: argparse.Namespace) -> int:
    """`hook install [--force]` writes .git/hooks/pre-commit; `hook uninstall` removes it."""
    root = gitdiff.repo_root()
    if args.hook_action == "uninstall":
        removed = precommit.uninstall_hook(root)
        print(f"removed {removed}" if removed else "no attribution pre-commit hook installed")
        return cli.EXIT_CLEAN
    argv: list[str] = []
    for flag, value in (("--index", args.index), ("--server", args.server)):
        if value:
            argv += [flag, str(Path(value).resolve()) if flag == "--index" else value]
    if args.fail_on:
        argv += ["--fail-on", args.fail_on]
    for lic in args.allow_license:
        argv += ["--allow-license", lic]
    if args.server:
        check_url(args.server)
    precommit.Policy(args.fail_on or "any", tuple(args.allow_license))  # validate now
    target = precommit.install_hook(root, argv, args.force)
    print(f"installed {target}: runs `attribution check --staged{''.join(' ' + a for a in argv)}`")
    return cli.EXIT_CLEAN


def cmd_lsp(args: argparse.Namespace) -> int:
    """`lsp`: the language server over stdio."""
    from attribution.lsp.server import run_stdio  # pygls loads only for lsp

    if args.server:
        check_url(args.server)
    return run_stdio(index=args.index or cli.default_index(), server=args.server)


def _policy_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fail-on",
        choices=sorted(precommit.FAIL_ON),
        default=None,
        help="license types that block (default any): copyleft also blocks proprietary, "
        "weak-copyleft also blocks copyleft, unknown blocks all but permissive",
    )
    p.add_argument(
        "--allow-license",
        action="append",
        default=[],
        metavar="SPDX",
        help="a license whose matches never block (repeatable)",
    )


def add_web_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`serve`, `lsp`, `hook`, and --server, --staged, --diff and the policy on `check`."""
    index_help = "index directory ($ATTRIBUTION_INDEX or ./.attribution-index)"
    p = commands.add_parser("serve", help="serve the HTTP API and the web page (gunicorn)")
    p.add_argument("--index", default=None, help=index_help)
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
    check.add_argument(
        "--staged", action="store_true", help="check the lines the staged changes add"
    )
    check.add_argument(
        "--diff",
        default=None,
        metavar="REF",
        help="check the lines HEAD adds since it forked from REF (git diff REF...HEAD)",
    )
    _policy_args(check)
    p = commands.add_parser("lsp", help="language server over stdio (diagnostics in the editor)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--index", default=None, help=index_help)
    where.add_argument("--server", default=None, metavar="URL", help="ask a running service")
    hook = commands.add_parser("hook", help="install the git pre-commit hook")
    actions = hook.add_subparsers(dest="hook_action", required=True)
    p = actions.add_parser("install", help="write .git/hooks/pre-commit")
    p.add_argument("--force", action="store_true", help="replace a hook written by something else")
    p.add_argument("--index", default=None, help=index_help)
    p.add_argument("--server", default=None, metavar="URL", help="ask a running service")
    _policy_args(p)
    actions.add_parser("uninstall", help="remove the hook attribution wrote")


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    **cli.COMMANDS,
    "check": cmd_check,
    "serve": cmd_serve,
    "lsp": cmd_lsp,
    "hook": cmd_hook,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `attribution` console script; returns the exit code."""
    from attribution.cli.scan import register as register_scan

    parser, commands = cli.build_parser()
    add_web_commands(commands)
    register_scan(commands, COMMANDS)
    return cli.run(parser.parse_args(argv), COMMANDS)


if __name__ == "__main__":
    raise SystemExit(main())
