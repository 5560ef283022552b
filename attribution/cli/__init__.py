"""The `attribution` command: every sub-command is registered in `attribution.cli.main`."""
