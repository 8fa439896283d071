#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, when it builds the image.
# It installs Python and the grader's dependencies (requirements.txt: the versions pinned
# in pyproject.toml) into /opt/autograder-venv, which run_autograder uses.
set -euo pipefail
cd "$(dirname "$0")"
VENV=/opt/autograder-venv

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip libseccomp2 >/dev/null   # libseccomp2: the seccomp layer
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# torch and torchvision come from PyTorch's CPU-only index: the same versions as on PyPI
# (2.14.1+cpu satisfies torch==2.14.1) without gigabytes of CUDA libraries that
# Gradescope's machines cannot use. Everything else comes from PyPI.
"$VENV/bin/python" -m pip install --quiet --index-url https://download.pytorch.org/whl/cpu \
    --extra-index-url https://pypi.org/simple -r requirements.txt
"$VENV/bin/python" -c "import numpy, torch, torchvision, matplotlib; print('installed torch', torch.__version__, '| numpy', numpy.__version__)"

# Student code runs under unprivileged uids (the grader's sandbox picks them when it runs
# as root): they must be able to read Python and the grader, never the solutions or a contest's
# hidden labels.
chmod -R a+rX "$VENV" .
chmod -R go-rwx solutions
if [ -d hidden ]; then chmod -R go-rwx hidden; fi
