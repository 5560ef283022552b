"""`attribution scan PATH...`: the sub-command, its report and its terminal summary.

`register(subparsers, commands)` adds the parser and its handler to the `attribution`
command (web/cli.py); exit codes follow SPEC.md: 0 nothing to report or all allowed,
1 findings (or policy violations when a policy applies), 2 usage or input error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from attribution.cli.base import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, default_index
from attribution.cli.render import render_match
from attribution.core.policy import REVIEW, Policy, PolicyError
from attribution.index.ingest import GitError
from attribution.index.store import Index
from attribution.scan import policyfile
from attribution.scan.cache import DEFAULT_DIR
from attribution.scan.inputs import ScanInputError
from attribution.scan.records import size_text
from attribution.scan.reports import FORMATS, write_report
from attribution.scan.session import ScanResult, ScanSettings, scan

SCAN_ERRORS = (PolicyError, ScanInputError, GitError)
DEFAULT_TOP = 50  # matches kept per file (a file holds more than a snippet)


def register(subparsers: Any, commands: dict[str, Callable[[argparse.Namespace], int]]) -> None:
    """Add `scan` to the `attribution` parser's sub-commands and its handler to commands."""
    p = subparsers.add_parser("scan", help="scan trees, repositories, archives or model outputs")
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="directory, git repository, archive, source file or .jsonl of outputs",
    )
    p.add_argument(
        "--index",
        default=None,
        help="index directory ($ATTRIBUTION_INDEX or ./.attribution-index)",
    )
    p.add_argument("--format", choices=("text", *FORMATS), default="text", help="report format")
    p.add_argument("--output", default=None, metavar="FILE", help="write the report here")
    p.add_argument(
        "--policy",
        default=None,
        metavar="FILE",
        help="attribution.toml or pyproject.toml (default: found in PATH or cwd)",
    )
    p.add_argument("--no-policy", action="store_true", help="ignore any policy file")
    _work_options(p)
    commands["scan"] = cmd_scan


def _work_options(p: argparse.ArgumentParser) -> None:
    """Options of how the work is done: processes, git range, cache, limits."""
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
    p.add_argument("--top", type=int, default=DEFAULT_TOP, help="matches kept per file")
    p.add_argument(
        "--file-timeout",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="give up on a file after this long (default 20; 0: no limit)",
    )


def _policy(args: argparse.Namespace) -> tuple[Policy | None, str | None]:
    if args.no_policy:
        return None, None
    path = Path(args.policy) if args.policy else policyfile.discover(args.paths)
    if path is None:
        return None, None
    return policyfile.load(path), str(path)


def cmd_scan(args: argparse.Namespace) -> int:
    """Run the scan, write its report, print its summary; the exit code."""
    if args.jobs is not None and args.jobs < 1:
        return _fail(f"--jobs must be at least 1, got {args.jobs}")
    if args.top < 1:
        return _fail(f"--top must be at least 1, got {args.top}")
    try:
        policy, policy_file = _policy(args)
        settings = ScanSettings(
            jobs=args.jobs or os.cpu_count() or 1,
            since=args.since,
            cache_dir=None if args.no_cache else args.cache,
            file_timeout=max(0.0, args.file_timeout),
        )
        with Index(args.index or default_index(), top=args.top) as index:
            result = scan(list(args.paths), index, settings, policy, policy_file)
            try:
                return _report(args, result)
            finally:
                result.close()
    except SCAN_ERRORS as err:
        return _fail(str(err))


def _fail(message: str) -> int:
    print(f"attribution: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _report(args: argparse.Namespace, result: ScanResult) -> int:
    if args.format == "text":
        out = sys.stdout
        _write_text(result, out, colour=out.isatty())
        summary_stream: TextIO = out
    else:
        if args.output:
            _write_file(args.format, result, Path(args.output))
        else:
            write_report(args.format, result, sys.stdout)
        summary_stream = sys.stderr
    summary_stream.write(summary_text(result))
    return exit_code(result)


def _write_file(name: str, result: ScanResult, path: Path) -> None:
    """Write a report next to its destination, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            write_report(name, result, out)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def exit_code(result: ScanResult) -> int:
    """2 when nothing could be scanned because of errors, else 1 for findings (violations
    under a policy), else 0."""
    s = result.summary
    if s.files == 0 and s.errors:
        return EXIT_ERROR
    if result.policy is not None:
        return EXIT_FINDINGS if s.violations else EXIT_CLEAN
    return EXIT_FINDINGS if s.findings else EXIT_CLEAN


def _write_text(result: ScanResult, out: TextIO, colour: bool) -> None:
    for record in result.records():
        found = record.findings()
        if not found:
            continue
        out.write(f"{record.path}: {len(found)} finding{'s' if len(found) != 1 else ''}\n")
        for _, m in found:
            out.write("\n".join(render_match(m, colour)) + "\n")
            policy = m.get("policy")
            if policy:
                out.write(f"{'':15}policy: {policy['status']} ({policy['reason']})\n")
        out.write("\n")


def _by_type(counts: Counter[str]) -> str:
    return " (" + ", ".join(f"{k} {v:,}" for k, v in counts.most_common()) + ")" if counts else ""


def summary_text(result: ScanResult) -> str:
    """The terminal summary: files, findings by license type, policy verdict, time."""
    s = result.summary
    rate = s.files / s.seconds if s.seconds else 0.0
    lines = [
        f"scanned {s.files:,} files ({size_text(s.bytes)}, {s.cached:,} from the cache) "
        f"in {s.seconds:,.1f} s ({rate:,.0f} files/s)",
        f"findings: {s.findings:,} in {s.files_with_findings:,} files"
        + _by_type(s.by_license_type),
    ]
    if result.policy is not None:
        review = s.by_status.get(REVIEW, 0)
        lines.append(
            f"policy {result.policy_file or ''}: {result.verdict.upper()} "
            f"({s.violations:,} violations, {review:,} to review, {s.ignored:,} matches ignored)"
        )
    left = ", ".join(f"{k} {v:,}" for k, v in sorted(s.skipped.items()))
    if left or s.ignored_paths:
        lines.append(f"left out: {left or 'nothing'}; ignored by policy: {s.ignored_paths:,}")
    for p in s.problems[:10]:
        lines.append(f"  {p.path}: {p.reason}: {p.detail}")
    if s.errors > 10:
        lines.append(f"  ... {s.errors - 10:,} more (see the report)")
    return "\n".join(lines) + "\n"
