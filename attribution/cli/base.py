"""The `attribution` command line (see SPEC.md): index build/add/remove/merge/stats, check,
lookup."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attribution.cli.render import render_result
from attribution.core.config import Config, ConfigError
from attribution.core.languages import UnknownLanguageError
from attribution.core.search import QueryError, attribute
from attribution.index.format import IndexFormatError, read_manifest
from attribution.index.optout import OptOut, OptOutError
from attribution.index.store import Index
from attribution.index.writer import IndexBusyError

if TYPE_CHECKING:
    from attribution.index.build import BuildReport

# Building, merging and stats load lazily: `check` must start fast.

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
USER_ERRORS = (
    QueryError,
    ConfigError,
    IndexFormatError,
    IndexBusyError,
    OptOutError,
    UnknownLanguageError,
    OSError,
)


def default_index() -> str:
    return os.environ.get("ATTRIBUTION_INDEX") or ".attribution-index"


def _index_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--index", default=None, help="index directory ($ATTRIBUTION_INDEX or ./.attribution-index)"
    )


def _build_parsers(sub: Any) -> None:
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
        if name == "build":
            p.add_argument("--k", type=int, default=Config.k, help=argparse.SUPPRESS)
            p.add_argument("--window", type=int, default=Config.window, help=argparse.SUPPRESS)


def build_parser() -> tuple[argparse.ArgumentParser, Any]:
    """The parser and its sub-command set (web/cli.py adds its own commands to it)."""
    parser = argparse.ArgumentParser(prog="attribution", description="Find where code came from.")
    commands = parser.add_subparsers(dest="command", required=True)
    idx = commands.add_parser("index", help="build and maintain an index")
    sub = idx.add_subparsers(dest="action", required=True)
    _build_parsers(sub)
    _remove_parser(sub)
    p = sub.add_parser("merge", help="merge segments into one, purging removed sources")
    _index_arg(p)
    p.add_argument(
        "segments", nargs="*", metavar="SEGMENT", help="segment directories built elsewhere"
    )
    p = sub.add_parser("stats", help="what the index holds")
    _index_arg(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p = commands.add_parser("check", help="attribute a file or stdin")
    p.add_argument("file", nargs="?", default="-", metavar="FILE")
    _index_arg(p)
    p.add_argument("--language", default=None)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--min-tokens", type=int, default=None, help="evidence a match needs (tokens)")
    p.add_argument("--top", type=int, default=None, help="matches to show")
    p.add_argument(
        "--project-license",
        default=None,
        metavar="SPDX",
        help="your project's license: say for each match whether its license is compatible",
    )
    _lookup_parser(commands)
    return parser, commands


def _remove_parser(sub: Any) -> None:
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
    p.add_argument("--format", choices=("text", "json"), default="text")


def _lookup_parser(commands: Any) -> None:
    p = commands.add_parser("lookup", help="is my code in this index?")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--repo", metavar="NAME", help="a repository or package name")
    which.add_argument("--author", metavar="TEXT", help="an author's name or e-mail address")
    which.add_argument("--blob", metavar="ID", help="a content's git blob SHA-1")
    which.add_argument(
        "--path", metavar="DIR", help="your own code (a directory or file), found by content"
    )
    _index_arg(p)
    p.add_argument("--format", choices=("text", "json"), default="text")


def _report_build(report: BuildReport) -> None:
    skipped = ", ".join(f"{k} {v:,}" for k, v in sorted(report.skipped.items())) or "none"
    print(
        f"indexed {report.files:,} files ({report.blobs:,} distinct, "
        f"{report.source_bytes / 1e6:,.1f} MB); skipped: {skipped}",
        file=sys.stderr,
    )
    for item in report.examples:
        if item.reason in ("unreadable", "unsafe_path", "limit"):
            print(f"  skipped {item.path} ({item.reason}): {item.detail}", file=sys.stderr)


def cmd_build(args: argparse.Namespace) -> int:
    from attribution.index.build import build

    root = Path(args.index or default_index())
    opt_out = OptOut.load(args.opt_out) if args.opt_out else OptOut()
    if args.action == "build":
        cfg = Config(k=args.k, window=args.window)
    else:
        cfg = Config.from_dict(read_manifest(root)["config"])
    report = build(
        args.sources,
        root,
        config=cfg,
        jobs=args.jobs,
        replace=args.action == "build",
        opt_out=opt_out,
    )
    _report_build(report)
    if opt_out and report.files:
        from attribution.index.maintain import enforce

        for r in enforce(root, opt_out):  # copies of opted-out content in other repositories
            if r.sources:
                print(f"opt-out {r.rule}: removed {r.sources:,} more sources", file=sys.stderr)
    if report.files == 0:
        print(
            f"attribution: error: nothing was indexed from {' '.join(args.sources)}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_CLEAN


def cmd_remove(args: argparse.Namespace) -> int:
    from attribution.index.lookup import RuleError
    from attribution.index.maintain import removal_line, remove

    rules = [("repo", v) for v in args.repo] + [("author", v) for v in args.author]
    rules += [("blob", v) for v in args.blob] + [("path", v) for v in args.path]
    if args.opt_out:
        rules += OptOut.load(args.opt_out).rules()
    if not rules:
        raise QueryError("index remove needs a --repo, --author, --blob, --path or --opt-out")
    try:
        removed = remove(args.index or default_index(), rules, follow=not args.no_follow)
    except RuleError as err:
        raise QueryError(str(err)) from None
    if args.format == "json":
        print(json.dumps({"removed": [r.to_json() for r in removed]}, indent=2))
    else:
        print("\n".join(removal_line(r) for r in removed))
    return EXIT_CLEAN


def cmd_lookup(args: argparse.Namespace) -> int:
    from attribution.index.lookup import RuleError, lookup, render_lookup

    kind = next(k for k in ("repo", "author", "blob", "path") if getattr(args, k) is not None)
    with Index(args.index or default_index()) as index:
        try:
            answer = lookup(index, kind, getattr(args, kind))
        except RuleError as err:
            raise QueryError(str(err)) from None
    if args.format == "json":
        print(json.dumps(answer, indent=2))
    else:
        sys.stdout.write(render_lookup(answer))
    return EXIT_CLEAN


def cmd_merge(args: argparse.Namespace) -> int:
    from attribution.index.maintain import merge

    manifest = merge(args.index or default_index(), args.segments)
    print(f"merged into {manifest['segments'][0]}")
    return EXIT_CLEAN


def cmd_stats(args: argparse.Namespace) -> int:
    from attribution.index.stats import stats

    info = stats(args.index or default_index())
    if args.format == "json":
        print(json.dumps(info, indent=2))
        return EXIT_CLEAN
    disk = info["disk_bytes"]
    print(f"index {info['index']} (format {info['format_version']}, {info['segments']} segments)")
    print(f"  {info['sources']:,} sources, {info['blobs']:,} blobs, {info['repos']:,} repos")
    print(f"  {info['source_bytes'] / 1e6:,.1f} MB of source, {info['tokens']:,} tokens")
    print("  disk: " + ", ".join(f"{k} {v / 1e6:,.1f} MB" for k, v in disk.items()))
    print("  languages: " + ", ".join(f"{k} {v:,}" for k, v in info["languages"].items()))
    top = list(info["licenses"].items())[:8]
    print("  licenses: " + ", ".join(f"{k} {v:,}" for k, v in top))
    print("  skipped: " + (", ".join(f"{k} {v:,}" for k, v in info["skipped"].items()) or "none"))
    if info["deleted_sources"]:
        print(f"  removed (until the next merge): {info['deleted_sources']:,} sources")
    return EXIT_CLEAN


def read_query(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def cmd_check(args: argparse.Namespace) -> int:
    data = read_query(args.file)
    overrides = {"min_tokens": args.min_tokens, "top": args.top}
    with Index(args.index or default_index(), **overrides) as index:
        result = attribute(
            data,
            index,
            language=args.language,
            filename=None if args.file == "-" else args.file,
            project_license=args.project_license,
        )
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        name = "<stdin>" if args.file == "-" else args.file
        sys.stdout.write(render_result(name, result, colour=sys.stdout.isatty()))
    return EXIT_FINDINGS if result["matches"] else EXIT_CLEAN


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "build": cmd_build,
    "add": cmd_build,
    "remove": cmd_remove,
    "lookup": cmd_lookup,
    "merge": cmd_merge,
    "stats": cmd_stats,
    "check": cmd_check,
}


def _error_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.filename:
        return f"{err.filename}: {err.strerror or err}"
    return str(err)


def run(args: argparse.Namespace, commands: dict[str, Callable[[argparse.Namespace], int]]) -> int:
    """Run a parsed command; user errors become one line on stderr and exit code 2."""
    action = args.action if args.command == "index" else args.command
    try:
        return commands[action](args)
    except USER_ERRORS as err:
        print(f"attribution: error: {_error_line(err)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("attribution: interrupted", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point without the web commands; returns the exit code."""
    parser, _ = build_parser()
    return run(parser.parse_args(argv), COMMANDS)


if __name__ == "__main__":
    raise SystemExit(main())
