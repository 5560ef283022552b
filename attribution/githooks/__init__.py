"""Git integrations: `check --staged` / `--diff` and the pre-commit hook."""
