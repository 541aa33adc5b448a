# Two commands do everything on a fresh clone: `make repro` and `make test` (`make help`
# lists every target: the `## ` comment on its line).
# The environment comes from uv.lock only; uv itself is installed, pinned by hash, into .tools/.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# Stage commands in dvc.yaml run `python`: make it the project's.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: repro test lint format bench check-repro clean help

# Python 3.11 reads the .pth file that makes this folder importable (it holds the folder's
# path) in the locale's encoding, even in UTF-8 mode: under LC_ALL=C or POSIX, a path with
# non-ASCII letters stops every Python and DVC command at start ("init_import_site").
ifneq ($(filter C POSIX,$(LC_ALL)),)
ifneq ($(shell pwd | LC_ALL=C grep -c '[^ -~]'),0)
$(error LC_ALL=$(LC_ALL) with non-ASCII letters in the project's path: Python 3.11 cannot \
start here. Run with LC_ALL=C.UTF-8 (or without LC_ALL), or move the project to a path in ASCII)
endif
endif

help:  ## list the targets (this)
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV): requirements-uv.txt
	$(PYTHON) -m venv $(TOOLS)
	@echo "$(TOOLS)/bin/python -m pip install --require-hashes -r requirements-uv.txt"
	@$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-uv.txt
	@touch $@

# Bytecode compiled at install: where PYTHONDONTWRITEBYTECODE is set (containers, some CI),
# every stage process would otherwise recompile pandas, scikit-learn and Great Expectations
# (seconds per process, most of a demo run).
$(VENV)/.synced: uv.lock pyproject.toml $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

# The demo data, byte-identical to what data/raw.dvc records; `dvc add` also puts it in the
# cache, which queued experiments (`dvc exp run --queue`) check out from. In a clone of a
# team's project data/raw.dvc records the team's data: the demo must not replace it, so the
# committed record is restored and the data pulled from the DVC remote.
data/raw: | $(VENV)/.synced
	python -m stages demo-data --out data/raw
	dvc add -q data/raw
	@if git cat-file -e HEAD:data/raw.dvc 2>/dev/null && ! git diff --quiet HEAD -- data/raw.dvc; then \
	  git checkout -q HEAD -- data/raw.dvc && rm -rf data/raw && \
	  echo "data/raw.dvc is not the demo's record (your team's data): dvc pull data/raw.dvc" && \
	  { dvc pull data/raw.dvc || { echo "error: data/raw.dvc records your team's data and" \
	    "dvc pull could not get it from the default remote. Either the data was never pushed" \
	    "to a remote the team shares (the template's own remote, .dvc-remote/, is a folder" \
	    "inside each clone: whoever added the data sets up a team remote and runs dvc push)," \
	    "or the remote needs credentials here; README, 'Sharing data: remotes'. Then run" \
	    "make repro again. (In the template itself, the demo made here differs from the" \
	    "committed one: please report it.)" >&2; rm -rf data/raw; exit 2; }; }; \
	fi

repro: $(VENV)/.synced data/raw  ## set up .venv, make the demo data if data/raw/ is absent, run the pipeline
	dvc repro
	@# DVC lists the metrics files in Python's hash order, new each run; a fixed seed fixes it.
	PYTHONHASHSEED=0 dvc metrics diff --all HEAD

test: lint  ## lint, then the test suite (unit and end-to-end)
	pytest

# What a CI job runs on a fresh clone: does the commit reproduce (docs/reproducibility.md)?
# The first `dvc repro` fills the cache (or rewrites dvc.lock, which check-repro then diagnoses
# against the commit's); check-repro then reruns everything from scratch.
check-repro: $(VENV)/.synced data/raw  ## prove the commit reproduces (its dvc.lock, rerun from scratch)
	dvc repro -q
	python -m stages check-repro

lint: $(VENV)/.synced  ## ruff, and the CI workflow files against their schemas
	ruff check .
	ruff format --check .
	check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	check-jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml

format: $(VENV)/.synced  ## fix what ruff can (lint and format)
	ruff check --fix .
	ruff format .

# Benchmarks get their own environment: the project's plus the reference library (crowd-kit),
# which is never a runtime dependency.
.venv-bench/.synced: uv.lock pyproject.toml $(UV)
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/.venv-bench $(UV) sync --frozen --group bench --quiet --compile-bytecode
	@touch $@

bench: .venv-bench/.synced  ## benchmarks against crowd-kit (installs it into .venv-bench; minutes)
	.venv-bench/bin/python bench/accuracy.py
	.venv-bench/bin/python bench/member_designs.py
	.venv-bench/bin/python bench/speed.py
	.venv-bench/bin/python bench/validate_speed.py
	.venv-bench/bin/python bench/pipeline_scale.py --sizes 10000 100000 1000000
	.venv-bench/bin/python bench/queue_speed.py
	.venv-bench/bin/python bench/numerics_cost.py --items 1000000 --rounds 2

clean:  ## remove the environments and caches make set up (not data or outputs)
	rm -rf $(VENV) .venv-bench $(TOOLS) .pytest_cache .ruff_cache
