"""The `attribution` command: every sub-command is registered in `attribution.cli.main`."""

from attribution.cli.main import main

__all__ = ["main"]
