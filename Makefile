# Set-up and everyday commands. Each target creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
INDEX ?= .attribution-index
PORT ?= 8000
SRC := attribution tests bench

.PHONY: run test lint bench index clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# The main job: index the Python packages installed in .venv (once), then serve the page and API.
run: $(STAMP)
	@test -f $(INDEX)/MANIFEST.json || $(BIN)/attribution index build installed --index $(INDEX)
	$(BIN)/attribution serve --index $(INDEX) --port $(PORT)

index: $(STAMP)
	$(BIN)/attribution index build installed --index $(INDEX)

# Debian's Chromium for the browser test (never a browser download).
chromium:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped (or fail on CI)"; }

# The layer contract first (seconds), then the tests.
test: $(STAMP) chromium
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

# Style, types, and the layer contract (pyproject.toml [tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/mypy
	$(BIN)/lint-imports

# Benchmarks (not tests): engine performance, then accuracy against peers and scale,
# which writes docs/benchmarks.md. Peers install into $$BENCH_CACHE (~/.cache/attribution-bench).
bench: $(BENCH_STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/attribution_bench.py all

clean:
	rm -rf $(VENV) $(INDEX) .pytest_cache .mypy_cache .ruff_cache
