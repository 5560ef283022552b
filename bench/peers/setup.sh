#!/usr/bin/env bash
# Install the benchmark's peers from their registries into a cache outside the repository:
#   Dolos (@dodona/dolos-lib, npm), jscpd 5.3.3 (npm), copydetect and scanoss-winnowing
#   (PyPI, in a venv of their own). matplotlib, for the charts, is the project's `bench`
#   extra (`make bench` installs it).
# Idempotent: a peer already installed is left alone. A peer that fails to install is
# reported and skipped; the benchmark then says why it has no figures for it.
#   BENCH_CACHE (default ~/.cache/attribution-bench) is where everything goes.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${BENCH_CACHE:-$HOME/.cache/attribution-bench}"
mkdir -p "$CACHE/logs"
status=0

echo "bench setup: cache $CACHE"
# Python peers in a venv of their own (their pins must not touch the project's).
PYV="$CACHE/pyenv"
if [ ! -x "$PYV/bin/python" ]; then python3 -m venv "$PYV"; fi
if ! "$PYV/bin/python" -c "import copydetect, scanoss_winnowing" 2>/dev/null; then
  "$PYV/bin/pip" install --quiet copydetect==0.5.0 scanoss-winnowing==0.8.0 pyarrow \
    >"$CACHE/logs/pypeers.log" 2>&1 \
    || { echo "  copydetect/scanoss-winnowing: install failed (see $CACHE/logs/pypeers.log)"; status=1; }
fi

# Node peers. npm 11 skips install scripts of dependencies, so the native tree-sitter
# modules of Dolos are rebuilt explicitly.
NODE_DIR="$CACHE/node"
mkdir -p "$NODE_DIR"
[ -f "$NODE_DIR/package.json" ] || echo '{"name":"attribution-bench-peers","private":true}' \
  >"$NODE_DIR/package.json"
if [ ! -d "$NODE_DIR/node_modules/@dodona/dolos-lib" ]; then
  (cd "$NODE_DIR" && npm install --no-audit --no-fund @dodona/dolos-lib@3.5.1 \
     && npm rebuild @dodona/dolos-parsers tree-sitter tree-sitter-compat) \
    >"$CACHE/logs/dolos.log" 2>&1 \
    || { echo "  dolos: install failed (see $CACHE/logs/dolos.log)"; status=1; }
fi
if [ ! -x "$NODE_DIR/node_modules/.bin/jscpd" ]; then
  (cd "$NODE_DIR" && npm install --no-audit --no-fund jscpd@5.3.3 jscpd-linux-x64-gnu@5.3.3) \
    >"$CACHE/logs/jscpd.log" 2>&1 \
    || { echo "  jscpd: install failed (see $CACHE/logs/jscpd.log)"; status=1; }
fi
cp "$HERE/dolos_query.mjs" "$NODE_DIR/dolos_query.mjs" 2>/dev/null || true
echo "bench setup: done (status $status)"
exit 0
