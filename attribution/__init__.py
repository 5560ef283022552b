"""attribution: find where a piece of code came from.

One import package, in layers that import one way (checked by `make lint`):
`core` (pure: tokenize, fingerprint, align, score, licenses, authors, policy, redaction)
<- `index` (everything on disk) <- `scan` (bulk scans and reports) <- `web` (HTTP service
and client) <- `lsp`, `githooks` (editor and git integrations) <- `cli` (the command).
"""

__version__ = "0.1.0"
