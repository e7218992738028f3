# Seawall: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch first, pinned to the local CPU build: an unpinned torch pulled in by an extra
# would download gigabytes of CUDA packages.
TORCH  ?= torch==2.13.0

.PHONY: demo test abuse install install-dev bench bench-shared bench-actions eval eval-cache clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The demo runs the guards and the caches, whose models are built with torch (serving them
# needs none: `pip install .` alone serves, README "A light install").
$(VENV)/.core: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[guard,semantic,train]'
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(BIN)/pip install -q -e '.[dev,guard,semantic,train,store,mcp]'
	touch $@

install: $(VENV)/.core
install-dev: $(VENV)/.dev

demo: install
	HF_HUB_OFFLINE=1 $(BIN)/seawall demo

test: install-dev
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q

# The abuse suite alone (raw-socket HTTP abuse, fuzzing, attacks; bounded counts for CI).
# `make test` runs it too.
abuse: install-dev
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q tests/abuse

# Seawall alone in front of the shared harness's fast mock upstream: RPS, p50/p99 by
# concurrency, overhead over direct, CPU per request, memory (installs nginx and wrk once).
bench: install
	PRESETS=none scripts/bench_shared.sh

# Seawall vs LiteLLM vs Portkey with ../shared/bench (installs nginx, wrk, LiteLLM, Portkey once).
bench-shared: install
	scripts/bench_shared.sh

# The action proxy: one policy decision with 200 policies (wall and CPU), and what the /mcp
# proxy adds to an allowed MCP call over calling the test MCP server directly (docs/benchmarks.md).
bench-actions: install-dev
	HF_HUB_OFFLINE=1 PYTHONPATH=src $(BIN)/python scripts/bench_actions.py --policies 200 --decisions 20000 --calls 400

# Every efficacy evaluation over ../shared/data (read in place), one Markdown table per task in
# build/eval/ (copied into docs/benchmarks.md with machine, command and date). One thread.
EVAL_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_NUM_THREADS=1 PYTHONPATH=src
eval: install
	mkdir -p build/eval
	$(EVAL_ENV) $(BIN)/python scripts/injection_eval.py --out build/eval/injection.md
	$(EVAL_ENV) $(BIN)/python scripts/pii_eval.py > build/eval/pii.md
	$(MAKE) eval-cache

# The semantic cache's default operating point, leave-one-dataset-out over every pair set
# (bounded samples; a few minutes on 2 cores, embeddings memoised in build/eval/memo).
eval-cache: install
	mkdir -p build/eval
	$(EVAL_ENV) nice -n 10 $(BIN)/python scripts/eval_cache.py --memo build/eval/memo --out build/eval/cache.md

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
