"""The `attribution` command: every sub-command's parser is registered here, each with the
one function that runs it (COMMANDS). Handlers live beside this module, one per group."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from attribution.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    INDEX_HELP,
    USER_ERRORS,
    error_line,
)
from attribution.core.config import Config
from attribution.core.policy import FAIL_ON
from attribution.index.ingest.records import IngestLimits
from attribution.scan.cache import DEFAULT_DIR
from attribution.scan.reports import FORMATS

Handler = Callable[[argparse.Namespace], int]
Commands = Any  # argparse's sub-parser action

# Each command's handler, "module:function" in attribution/cli/, loaded when it runs (so
# `check` does not load the scan pipeline or the web stack).
COMMANDS: dict[str, str | Handler] = {
    "build": "indexing:cmd_build",
    "add": "indexing:cmd_build",
    "remove": "indexing:cmd_remove",
    "merge": "indexing:cmd_merge",
    "stats": "indexing:cmd_stats",
    "verify": "indexing:cmd_verify",
    "repair": "indexing:cmd_repair",
    "lookup": "indexing:cmd_lookup",
    "check": "check:cmd_check",
    "scan": "scan:cmd_scan",
    "serve": "serve:cmd_serve",
    "lsp": "serve:cmd_lsp",
    "hook": "serve:cmd_hook",
    "proxy": "proxy:cmd_proxy",
}
DEFAULT_SCAN_TOP = 50  # matches kept per scanned file (a file holds more than a snippet)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(prog="attribution", description="Find where code came from.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _index_parsers(commands)
    _check_parser(commands)
    _scan_parser(commands)
    _lookup_parser(commands)
    _serve_parsers(commands)
    _proxy_parser(commands)
    return parser


def _index_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", default=None, help=INDEX_HELP)


def _format_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "json"), default="text")


# ---------------------------------------------------------------- index
def _index_parsers(commands: Commands) -> None:
    idx = commands.add_parser("index", help="build and maintain an index")
    sub = idx.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, helptext in (
        ("build", "build a new index from SOURCEs"),
        ("add", "add SOURCEs to an index"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument(
            "sources",
            nargs="+",
            metavar="SOURCE",
            help="directory, archive, git repo, .parquet/.jsonl table, or 'installed'",
        )
        _index_arg(p)
        p.add_argument(
            "--jobs", type=int, default=None, help="worker processes (default: all cores)"
        )
        p.add_argument("--opt-out", default=None, metavar="FILE", help="opt-out list to honour")
        p.add_argument(
            "--git-history",
            type=int,
            default=IngestLimits.max_history_commits,
            metavar="N",
            help="newest commits of a git SOURCE read for each file's authors "
            f"(default {IngestLimits.max_history_commits:,}; 0: none)",
        )
        if name == "build":
            p.add_argument("--k", type=int, default=Config.k, help=argparse.SUPPRESS)
            p.add_argument("--window", type=int, default=Config.window, help=argparse.SUPPRESS)
            p.add_argument(
                "--shards", type=int, default=None, metavar="N", help="split the index by blob id"
            )
            p.add_argument(
                "--replace",
                action="store_true",
                help="replace an existing index even by one of fewer sources",
            )
            _engine_args(p)
    _remove_parser(sub)
    p = sub.add_parser("merge", help="merge segments into one, purging removed sources")
    _index_arg(p)
    p.add_argument(
        "segments", nargs="*", metavar="SEGMENT", help="segment directories built elsewhere"
    )
    p = sub.add_parser("stats", help="what the index holds")
    _index_arg(p)
    _format_arg(p)
    p = sub.add_parser("verify", help="check the index's files; name each damaged one")
    _index_arg(p)
    p.add_argument("--deep", action="store_true", help="check every byte against its checksum")
    p = sub.add_parser("repair", help="drop damaged segments (verify --deep), keep the rest")
    _index_arg(p)
    p.add_argument("--yes", action="store_true", help="drop them without asking")


def _remove_parser(sub: Commands) -> None:
    p = sub.add_parser(
        "remove", help="remove sources, and the copies of their content, at once (opt-out)"
    )
    _index_arg(p)
    p.add_argument("--repo", action="append", default=[], metavar="NAME", help="a repository")
    p.add_argument(
        "--author", action="append", default=[], metavar="TEXT", help="an author's name or e-mail"
    )
    p.add_argument("--blob", action="append", default=[], metavar="ID", help="a git blob SHA-1")
    p.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="DIR",
        help="your own code (a directory or file): its content wherever it is indexed",
    )
    p.add_argument("--opt-out", default=None, metavar="FILE", help="every rule of an opt-out list")
    p.add_argument(
        "--no-follow",
        action="store_true",
        help="remove only the sources the rules name, not copies of their content elsewhere",
    )
    _format_arg(p)


def _lookup_parser(commands: Commands) -> None:
    p = commands.add_parser("lookup", help="is my code in this index?")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--repo", metavar="NAME", help="a repository or package name")
    which.add_argument("--author", metavar="TEXT", help="an author's name or e-mail address")
    which.add_argument("--blob", metavar="ID", help="a content's git blob SHA-1")
    which.add_argument(
        "--path", metavar="DIR", help="your own code (a directory or file), found by content"
    )
    _index_arg(p)
    _format_arg(p)


# ---------------------------------------------------------------- check
def _check_parser(commands: Commands) -> None:
    p = commands.add_parser("check", help="attribute a file, stdin, or the staged changes")
    p.add_argument("file", nargs="?", default="-", metavar="FILE", help="a file, or - for stdin")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--index", default=None, help=INDEX_HELP)
    where.add_argument(
        "--server", default=None, metavar="URL", help="ask a running service instead of an index"
    )
    p.add_argument("--language", default=None, help="the query's language (default: detected)")
    _format_arg(p)
    p.add_argument("--min-tokens", type=int, default=None, help="evidence a match needs (tokens)")
    p.add_argument("--top", type=int, default=None, help="matches to show")
    p.add_argument(
        "--origins",
        default=None,
        metavar="N|all",
        help="other copies listed per match, each with its lines (default: 3 in text, 20 in "
        "JSON; `copies` counts them all)",
    )
    p.add_argument(
        "--project-license",
        default=None,
        metavar="SPDX",
        help="your project's license: say for each match whether its license is compatible",
    )
    p.add_argument("--staged", action="store_true", help="check the lines the staged changes add")
    p.add_argument(
        "--diff",
        default=None,
        metavar="REF",
        help="check the lines HEAD adds since it forked from REF (git diff REF...HEAD)",
    )
    _policy_flags(p)
    _policy_file(p)


def _policy_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fail-on",
        choices=sorted(FAIL_ON),
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


def _policy_file(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--policy",
        default=None,
        metavar="FILE",
        help="attribution.toml or pyproject.toml (default: found in the scanned directory, "
        "the repository or the current directory)",
    )
    p.add_argument("--no-policy", action="store_true", help="ignore any policy file")


# ---------------------------------------------------------------- scan
def _scan_parser(commands: Commands) -> None:
    p = commands.add_parser("scan", help="scan trees, repositories, archives or model outputs")
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="directory, git repository, archive, source file or .jsonl of outputs",
    )
    _index_arg(p)
    p.add_argument("--format", choices=("text", *FORMATS), default="text", help="report format")
    p.add_argument("--output", default=None, metavar="FILE", help="write the report here")
    _policy_file(p)
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument(
        "--since",
        default=None,
        metavar="REF",
        help="in git repositories, only files changed between REF and HEAD",
    )
    p.add_argument(
        "--cache",
        default=DEFAULT_DIR,
        metavar="DIR",
        help=f"result cache for resuming and re-scans (default {DEFAULT_DIR})",
    )
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.add_argument("--top", type=int, default=DEFAULT_SCAN_TOP, help="matches kept per file")
    p.add_argument(
        "--file-timeout",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="give up on a file after this long (default 20; 0: no limit)",
    )


def _engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine", choices=("local", "ray"), default="local", help="run here, or on Ray"
    )
    p.add_argument(
        "--address", default=None, metavar="ADDR", help="with --engine ray: the Ray cluster"
    )


# ---------------------------------------------------------------- serve, lsp, hook
def _serve_parsers(commands: Commands) -> None:
    p = commands.add_parser("serve", help="serve the HTTP API and the web page (gunicorn)")
    _index_arg(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: one per core)"
    )
    p.add_argument("--threads", type=int, default=None, help="threads per worker (default 4)")
    _engine_args(p)
    p.add_argument(
        "--replicas", type=int, default=1, help="with --engine ray: replicas of each shard"
    )
    p.add_argument(
        "--shards-per-replica",
        type=int,
        default=None,
        metavar="N",
        help="with --engine ray: shards a replica holds (default: as fit the cluster's CPUs)",
    )
    p = commands.add_parser("lsp", help="language server over stdio (diagnostics in the editor)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--index", default=None, help=INDEX_HELP)
    where.add_argument("--server", default=None, metavar="URL", help="ask a running service")
    hook = commands.add_parser("hook", help="install the git pre-commit hook")
    actions = hook.add_subparsers(dest="hook_action", required=True, metavar="ACTION")
    p = actions.add_parser("install", help="write .git/hooks/pre-commit")
    p.add_argument("--force", action="store_true", help="replace a hook written by something else")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--index", default=None, help=INDEX_HELP)
    where.add_argument("--server", default=None, metavar="URL", help="ask a running service")
    _policy_flags(p)
    actions.add_parser("uninstall", help="remove the hook attribution wrote")


# ---------------------------------------------------------------- proxy
def _proxy_parser(commands: Commands) -> None:
    p = commands.add_parser(
        "proxy", help="OpenAI-compatible proxy that attributes the code a model returns"
    )
    p.add_argument("--upstream", required=True, metavar="URL", help="the model server's URL")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--index", default=None, help=INDEX_HELP)
    where.add_argument("--server", default=None, metavar="URL", help="ask a running service")
    p.add_argument(
        "--mode",
        choices=("annotate", "footnote", "block"),
        default="annotate",
        help="annotate: attribution fields; footnote: a Sources note; block: hold denied code",
    )
    p.add_argument("--policy", default=None, metavar="FILE", help="policy file (for block mode)")
    p.add_argument("--audit", default=None, metavar="FILE", help="append one JSON line per answer")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="longest wait for the upstream to send anything (default 600)",
    )
    p.add_argument("--top", type=int, default=5, help="matches kept per block (default 5)")


# ---------------------------------------------------------------- running
def run(args: argparse.Namespace) -> int:
    """Run a parsed command; user errors become one line on stderr and exit code 2."""
    action = args.action if args.command == "index" else args.command
    try:
        code = handler(action)(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except USER_ERRORS as err:
        print(f"attribution: error: {error_line(err)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("attribution: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def handler(action: str) -> Handler:
    """The function that runs a command."""
    target = COMMANDS[action]
    if callable(target):
        return target
    module, _, name = target.partition(":")
    function: Handler = getattr(importlib.import_module(f"attribution.cli.{module}"), name)
    return function


def _closed_pipe() -> int:
    """The reader went away (`| head`): stop quietly, as a Unix tool does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # nothing more to flush at exit
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `attribution` console script; returns the exit code."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
