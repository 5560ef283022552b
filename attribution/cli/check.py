"""`attribution check`: a file, stdin, or what a git diff adds (`--staged`, `--diff REF`),
against an index or a running service (`--server URL`), judged by the one policy model.

The policy is `--fail-on`/`--allow-license` when given, else `--policy FILE`, else
`attribution.toml` or `[tool.attribution]` found in the repository (or current directory);
without any, every match is a finding.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from attribution.cli.common import EXIT_CLEAN, EXIT_FINDINGS, index_dir, read_query
from attribution.cli.render import render_report, render_result
from attribution.core.config import Config
from attribution.core.explain import MAX_ORIGINS
from attribution.core.policy import Policy
from attribution.core.search import QueryError, attribute
from attribution.githooks import precommit
from attribution.index import gitdiff
from attribution.index.store import Index
from attribution.scan import policyfile
from attribution.web.client import attribute_remote, check_url


def cmd_check(args: argparse.Namespace) -> int:
    """Attribute, print, and exit 1 when something blocks (any match without a policy)."""
    changes = args.staged or args.diff is not None
    if changes and args.file != "-":
        raise QueryError("--staged and --diff check a git diff: give no FILE")
    if args.staged and args.diff is not None:
        raise QueryError("give one of --staged and --diff REF")
    root = gitdiff.repo_root() if changes else Path.cwd()
    policy, explicit = resolve_policy(args, root)
    top = precommit.QUERY_TOP if changes else args.top
    attribute_one, close = attributor(args, top)
    try:
        if changes:
            return _check_changes(args, root, policy, attribute_one)
        return _check_one(args, policy if explicit else None, attribute_one)
    finally:
        close()


def resolve_policy(args: argparse.Namespace, root: Path) -> tuple[Policy, bool]:
    """The policy in force and whether one was given (flags, a file, or found)."""
    if args.fail_on is not None or args.allow_license:
        return Policy.from_flags(args.fail_on, args.allow_license), True
    path = None
    if not args.no_policy:
        path = Path(args.policy) if args.policy else policyfile.discover([], root)
    if path is not None:
        return policyfile.load(path), True
    return Policy.from_flags(None), False


ALL_ORIGINS = 10_000  # --origins all: the API's largest page
Attributor = Callable[[bytes, str | None, str | None], dict[str, Any]]


def attributor(args: argparse.Namespace, top: int | None) -> tuple[Attributor, Callable[[], None]]:
    """A function attributing one file (local index or service), and how to close it."""
    limit = Config().max_query_bytes
    project = {"project_license": args.project_license} if args.project_license else {}
    origins = origins_limit(args)

    def too_large(data: bytes) -> None:
        if len(data) > limit:
            raise QueryError(f"too large: {len(data):,} bytes (limit {limit:,} bytes)")

    if args.server:
        server = args.server
        check_url(server)

        def remote(data: bytes, language: str | None, path: str | None) -> dict[str, Any]:
            too_large(data)
            return attribute_remote(
                server,
                data,
                language=language,
                filename=path,
                top=top,
                min_tokens=args.min_tokens,
                origins_limit=origins,
            )

        return remote, lambda: None
    index = Index(index_dir(args.index), min_tokens=args.min_tokens, top=top)

    def local(data: bytes, language: str | None, path: str | None) -> dict[str, Any]:
        too_large(data)
        return attribute(
            data, index, language=language, filename=path, origins_limit=origins, **project
        )

    return local, index.close


def origins_limit(args: argparse.Namespace) -> int | None:
    """How many other copies each match lists: --origins N, `all` (None), or 20."""
    if args.origins is None:
        return MAX_ORIGINS
    if args.origins == "all":
        return ALL_ORIGINS
    if not args.origins.isdigit():
        raise QueryError(f"--origins takes a number or 'all', got {args.origins!r}")
    return int(args.origins)


def _shown(args: argparse.Namespace) -> int:
    """Other copies printed per match in text: 3, or what --origins asked for."""
    return 3 if args.origins is None else (origins_limit(args) or 0)


def _check_one(args: argparse.Namespace, policy: Policy | None, attribute_one: Attributor) -> int:
    data = read_query(args.file)
    result = attribute_one(data, args.language, None if args.file == "-" else args.file)
    if policy is not None:
        for m in result["matches"]:
            m["blocking"] = policy.blocks(m)
    blocking = [m for m in result["matches"] if m.get("blocking", True)]
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        name = "<stdin>" if args.file == "-" else args.file
        colour = sys.stdout.isatty()
        sys.stdout.write(render_result(name, result, colour, origins=_shown(args)))
        if policy is not None and result["matches"]:
            print(f"{len(blocking)} of {len(result['matches'])} blocking ({policy.describe()})")
    return EXIT_FINDINGS if blocking else EXIT_CLEAN


def _check_changes(
    args: argparse.Namespace, root: Path, policy: Policy, attribute_one: Attributor
) -> int:
    """`--staged` / `--diff REF`: the added lines of each changed file."""
    changes = gitdiff.staged(root) if args.staged else gitdiff.since(root, args.diff)
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
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        sys.stdout.write(render_report(report, colour=sys.stdout.isatty()))
    return EXIT_FINDINGS if report.blocking else EXIT_CLEAN
