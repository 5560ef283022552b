"""`python -m attribution`: the `attribution` command."""

from attribution.cli.main import main

raise SystemExit(main())
