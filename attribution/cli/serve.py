"""`attribution serve` (HTTP API and page), `attribution lsp` (language server over stdio)
and `attribution hook install|uninstall` (the git pre-commit hook)."""

from __future__ import annotations

import argparse
from pathlib import Path

from attribution.cli.common import EXIT_CLEAN, fail, index_dir
from attribution.core.policy import Policy
from attribution.githooks import precommit
from attribution.index import gitdiff
from attribution.index.format import read_manifest
from attribution.web.client import check_url


def cmd_serve(args: argparse.Namespace) -> int:
    from attribution.web.app import create_app  # the web stack loads only for serve
    from attribution.web.serve import serve
    from attribution.web.settings import SettingsError

    root = index_dir(args.index)
    read_manifest(Path(root))  # a missing or broken index: one line on stderr, exit 2
    if getattr(args, "engine", "local") == "ray":
        return _serve_on_ray(args, root)
    try:
        app = create_app(root)
    except SettingsError as err:
        return fail(str(err))
    return serve(app, args.host, args.port, args.workers, args.threads)


def _serve_on_ray(args: argparse.Namespace, root: str) -> int:
    from attribution.index.ray_build import RayUnavailable
    from attribution.web.ray_serve import run
    from attribution.web.settings import SettingsError

    try:
        return run(root, host=args.host, port=args.port, replicas=args.replicas,
                   address=args.address, shards_per_replica=args.shards_per_replica)  # fmt: skip
    except (RayUnavailable, SettingsError, ValueError) as err:
        return fail(str(err))


def cmd_lsp(args: argparse.Namespace) -> int:
    """`lsp`: the language server over stdio."""
    from attribution.lsp.server import run_stdio  # pygls loads only for lsp

    if args.server:
        check_url(args.server)
    return run_stdio(index=index_dir(args.index), server=args.server)


def cmd_hook(args: argparse.Namespace) -> int:
    """`hook install [--force]` writes .git/hooks/pre-commit; `hook uninstall` removes it."""
    root = gitdiff.repo_root()
    if args.hook_action == "uninstall":
        removed = precommit.uninstall_hook(root)
        print(f"removed {removed}" if removed else "no attribution pre-commit hook installed")
        return EXIT_CLEAN
    argv: list[str] = []
    if args.index:
        argv += ["--index", str(Path(args.index).resolve())]
    if args.server:
        check_url(args.server)
        argv += ["--server", args.server]
    if args.fail_on:
        argv += ["--fail-on", args.fail_on]
    for lic in args.allow_license:
        argv += ["--allow-license", lic]
    Policy.from_flags(args.fail_on, args.allow_license)  # validate now, not at commit time
    target = precommit.install_hook(root, argv, args.force)
    print(f"installed {target}: runs `attribution check --staged{''.join(' ' + a for a in argv)}`")
    return EXIT_CLEAN
