# The two commands of the README. Each bootstraps .venv from pyproject.toml on a
# fresh machine that has only Python 3.11+ and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-compiled test-clients lint bench bench-scale diagrams rules-doc clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sessionspec needs Python 3.11+, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sessionspec demo

lint: $(STAMP)
	$(BIN)/ruff check model properties tests benchmarks
	$(BIN)/mypy

test: lint
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/pytest -n 2 -q

# The suite against the compiled build (setup.py; `make test` runs it on the editable, pure-Python one): a
# wheel built with mypyc, installed in .venv-compiled, the suite run from a copy of the tree that imports it.
test-compiled:
	PYTHON=$(PYTHON) HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} .ci/compiled pytest -n 2 -q -p no:cacheprovider

# The real clients against `sessionspec serve` (docs/serve.md): today's client from the dev extra, and the
# seed-era client in an environment of its own, installed only pinned (about 2-3 min the first time).
SEED_CLIENT := .venv-seed-client
$(SEED_CLIENT)/.installed: examples/serve/seed-client.txt
	$(PYTHON) -m venv $(SEED_CLIENT)
	$(SEED_CLIENT)/bin/python -m pip install --quiet -r examples/serve/seed-client.txt
	@touch $@

test-clients: $(STAMP) $(SEED_CLIENT)/.installed
	SESSIONSPEC_SEED_CLIENT_PYTHON=$(SEED_CLIENT)/bin/python $(BIN)/pytest -n 0 -q tests/test_serve_seed_client.py tests/test_serve_client.py

diagrams: $(STAMP)
	$(BIN)/sessionspec diagrams --all-interpretations

# Benchmarks (benchmarks/README.md): installs the bench extra (SimPy), runs every workload shape on
# the engine, the SimPy model and a hand-written heapq loop, prints a table and writes
# benchmarks/results.json. A few minutes; BENCH_ARGS=--full for the larger sizes and the extras.
bench:
	PYTHON=$(PYTHON) .ci/compiled python -m benchmarks.run --json $(CURDIR)/benchmarks/results.json $(BENCH_ARGS)

# 1 vs 2 Dask workers for explore, a sweep of campaigns and the study; identical outputs; a two-host
# run on loopback (benchmarks/README.md, "Past one machine"). Writes benchmarks/scale.json.
bench-scale: $(STAMP)
	$(BIN)/python -W ignore -m benchmarks.scale $(BENCH_ARGS)

rules-doc: $(STAMP)
	$(BIN)/sessionspec rules --format markdown --tests tests > docs/rules.md
	$(BIN)/sessionspec rules --profile platform --format markdown --tests tests > docs/rules-platform.md

clean:
	rm -rf $(VENV) .venv-compiled $(SEED_CLIENT) .pytest_cache .mypy_cache .ruff_cache .hypothesis
