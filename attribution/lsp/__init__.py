"""The language server (`attribution lsp`): copied code as diagnostics in the editor."""

from attribution.lsp.server import AttributionServer, create_server, run_stdio

__all__ = ["AttributionServer", "create_server", "run_stdio"]
