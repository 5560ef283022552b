"""`attribution scan PATH...`: the scan, its report and its terminal summary.

Exit codes follow SPEC.md: 0 nothing to report or all allowed, 1 findings (or policy
violations when a policy applies), 2 usage or input error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TextIO

from attribution.cli.common import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, fail, index_dir
from attribution.cli.render import render_match
from attribution.core.policy import REVIEW, Policy
from attribution.core.printable import printable
from attribution.index.store import Index
from attribution.scan import policyfile
from attribution.scan.inputs import ScanInputError
from attribution.scan.records import size_text
from attribution.scan.reports import write_report
from attribution.scan.session import ScanResult, ScanSettings, scan


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
        return fail(f"--jobs must be at least 1, got {args.jobs}")
    if args.top < 1:
        return fail(f"--top must be at least 1, got {args.top}")
    try:
        return _scan(args)
    except ScanInputError as err:
        return fail(str(err))


def _scan(args: argparse.Namespace) -> int:
    policy, policy_file = _policy(args)
    settings = ScanSettings(
        jobs=args.jobs or os.cpu_count() or 1,
        since=args.since,
        cache_dir=None if args.no_cache else args.cache,
        file_timeout=max(0.0, args.file_timeout),
    )
    with Index(index_dir(args.index), top=args.top) as index:
        result = scan(list(args.paths), index, settings, policy, policy_file)
        try:
            return _report(args, result)
        finally:
            result.close()


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
        plural = "s" if len(found) != 1 else ""
        out.write(f"{printable(record.path)}: {len(found)} finding{plural}\n")
        for _, m in found:
            out.write("\n".join(render_match(m, colour)) + "\n")
            policy = m.get("policy")
            if policy:
                reason = printable(str(policy["reason"]))
                out.write(f"{'':15}policy: {policy['status']} ({reason})\n")
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
        lines.append(f"  {printable(p.path)}: {p.reason}: {printable(p.detail)}")
    if s.errors > 10:
        lines.append(f"  ... {s.errors - 10:,} more (see the report)")
    return "\n".join(lines) + "\n"
