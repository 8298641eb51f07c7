# Two commands do everything on a fresh machine:
#   make demo   trains a network on the offline digits set and writes plots, weights and its graph
#   make test   lints, runs the whole test suite and builds the docs
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck docs notebooks bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m graphkit train mlp --dataset digits --epochs 20 --out runs/demo

test: $(STAMP) lint typecheck
	$(PY) -m pytest
	$(PY) -m mkdocs build --strict --quiet --site-dir build/site

lint: $(STAMP)
	$(PY) -m ruff check .

typecheck: $(STAMP)
	$(PY) -m mypy graphkit

docs: $(STAMP)
	$(PY) -m mkdocs build --strict --site-dir build/site

notebooks: $(STAMP)
	$(PY) docs/lessons/make_notebooks.py --out build/notebooks

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build runs .pytest_cache .ruff_cache .mypy_cache .hypothesis
