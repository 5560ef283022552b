"""`attribution index build|add|remove|merge|verify|repair|stats` and `attribution lookup`.

Building, merging and stats load lazily: `check` must start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from attribution.cli.common import EXIT_CLEAN, EXIT_FINDINGS, fail, index_dir
from attribution.core.config import Config
from attribution.core.printable import printable, printable_all
from attribution.core.search import QueryError
from attribution.index.format import read_manifest
from attribution.index.ingest.records import IngestLimits
from attribution.index.optout import OptOut
from attribution.index.store import Index

if TYPE_CHECKING:
    from attribution.index.build import BuildReport
    from attribution.index.repair import DamagedSegment


def _report_build(report: BuildReport) -> None:
    skipped = ", ".join(f"{k} {v:,}" for k, v in sorted(report.skipped.items())) or "none"
    print(
        f"indexed {report.files:,} files ({report.blobs:,} distinct, "
        f"{report.source_bytes / 1e6:,.1f} MB); skipped: {skipped}",
        file=sys.stderr,
    )
    for item in report.examples:
        if item.reason in ("unreadable", "unsafe_path", "limit"):
            where, detail = printable(item.path), printable(item.detail)
            print(f"  skipped {where} ({item.reason}): {detail}", file=sys.stderr)


def cmd_build(args: argparse.Namespace) -> int:
    from attribution.index.build import build

    root = Path(index_dir(args.index))
    if args.git_history < 0:
        raise QueryError(f"--git-history must be 0 or more, got {args.git_history}")
    opt_out = OptOut.load(args.opt_out) if args.opt_out else OptOut()
    if args.action == "build":
        cfg = Config(k=args.k, window=args.window)
    else:
        cfg = Config.from_dict(read_manifest(root)["config"])
    limits = IngestLimits(max_history_commits=args.git_history)
    shards = getattr(args, "shards", None)
    if shards is not None and shards < 1:
        return fail(f"--shards must be 1 or more, got {shards}")
    if getattr(args, "engine", "local") == "ray":
        from attribution.index.ray_build import RayUnavailable, build_on_ray

        try:
            report = build_on_ray(
                args.sources, root, config=cfg, shards=shards, address=args.address,
                limits=limits, opt_out=opt_out, num_cpus=args.jobs,
                shrink=getattr(args, "replace", False),
            )  # fmt: skip
        except RayUnavailable as err:
            return fail(str(err))
    else:
        report = build(
            args.sources,
            root,
            config=cfg,
            jobs=args.jobs,
            replace=args.action == "build",
            opt_out=opt_out,
            limits=limits,
            shards=shards,
            shrink=getattr(args, "replace", False),
        )
    _report_build(report)
    before = report.replaced_sources
    if report.published and before is not None and report.files < before:
        print(f"replaced an index of {before:,} sources: {before - report.files:,} fewer")
    if opt_out and report.files:
        from attribution.index.maintain import enforce

        for r in enforce(root, opt_out):  # copies of opted-out content in other repositories
            if r.sources:
                print(f"opt-out {r.rule}: removed {r.sources:,} more sources", file=sys.stderr)
    if report.files == 0:
        kept = "; the index is unchanged" if not report.published else ""
        return fail(f"nothing was indexed from {' '.join(args.sources)}{kept}")
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
        removed = remove(index_dir(args.index), rules, follow=not args.no_follow)
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
    with Index(index_dir(args.index)) as index:
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

    manifest = merge(index_dir(args.index), args.segments)
    print(f"merged into {', '.join(manifest['segments']) or 'an empty index'}")
    return EXIT_CLEAN


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 when every file checked is sound, 1 naming each damaged file."""
    from attribution.index.verify import verify

    root = index_dir(args.index)
    verdict = verify(root, deep=args.deep)
    for note in verdict.notes:
        print(f"note: {note}", file=sys.stderr)
    how = "every byte" if args.deep else "sizes, headers and shapes"
    if verdict.sound:
        print(f"index {root} is sound ({verdict.segments} segments; {how} checked)")
        return EXIT_CLEAN
    for line in verdict.problems:
        print(f"damaged: {line}")
    print(
        f"index {root}: {len(verdict.problems)} damaged; drop the damaged segments with "
        f"'attribution index repair --index {root}', or rebuild it from its sources"
    )
    return EXIT_FINDINGS


def cmd_repair(args: argparse.Namespace) -> int:
    """Drop the damaged segments (after --yes or a yes at the prompt): exit 0 when the
    index is sound after, 1 when nothing was dropped and something is damaged."""
    from attribution.index.repair import diagnose, drop

    root = index_dir(args.index)
    found = diagnose(root)
    for line in found.unrepairable:
        print(f"damaged: {line}")
    for d in found.damaged:
        for line in d.problems:
            print(f"damaged: {line}")
        print(f"  segment {d.name}: {_held_text(d)}")
    if not found.damaged and not found.unrepairable:
        print(f"index {root} is sound (every byte checked); nothing to repair")
        return EXIT_CLEAN
    if found.unrepairable:
        return fail(
            f"index {root}: repair drops damaged segments only; rebuild the index from its "
            "sources ('attribution index build SOURCE... --index DIR --replace')"
        )
    what = f"{len(found.damaged)} damaged segment(s) holding {found.sources:,} sources"
    if not args.yes and not _confirmed(f"drop {what}? [y/N] "):
        print(f"nothing was changed; run again with --yes to drop {what}")
        return EXIT_FINDINGS
    drop(found)
    print(
        f"dropped {what}; the index at {root} serves the rest. Adding their SOURCEs again "
        f"brings them back ('attribution index add SOURCE... --index {root}')"
    )
    return EXIT_CLEAN


def _held_text(d: DamagedSegment) -> str:
    from attribution.index.repair import SHOWN_REPOS

    if d.sources is None:
        return "its sources cannot be counted (SEGMENT.json and meta.sqlite unreadable)"
    if not d.exact:
        return f"{d.sources:,} sources as written (meta.sqlite unreadable: no names)"
    names = ", ".join(printable(r) for r in d.repos[:SHOWN_REPOS])
    more = f" and {len(d.repos) - SHOWN_REPOS:,} more" if len(d.repos) > SHOWN_REPOS else ""
    return f"{d.sources:,} sources of {len(d.repos):,} repositories ({names}{more})"


def _confirmed(prompt: str) -> bool:
    """A yes at the terminal; never when stdin is not one (pass --yes there)."""
    if not sys.stdin.isatty():
        return False
    try:
        return input(prompt).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_stats(args: argparse.Namespace) -> int:
    from attribution.index.stats import stats

    info = stats(index_dir(args.index))
    if args.format == "json":
        print(json.dumps(info, indent=2))
        return EXIT_CLEAN
    info = printable_all(info)  # license names and the path come from files
    disk = info["disk_bytes"]
    parts = f"{info['shards']} shards, " if info.get("shards") else ""
    parts += f"{info['segments']} segments"
    print(f"index {info['index']} (format {info['format_version']}, {parts})")
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
