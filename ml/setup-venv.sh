#!/usr/bin/env bash
# Creates the Python environment at .venv from the pinned requirements in ml/.
# Idempotent: a stamp holds the hash of the inputs, and nothing is done while it matches.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
stamp=.venv/.modeldrop-requirements.sha256
wanted=$(cat ml/requirements-cloud.txt ml/requirements-local.txt ml/pyproject.toml | sha256sum | cut -d' ' -f1)

if [[ -f $stamp && $(cat "$stamp") == "$wanted" ]]; then
  echo "python environment is up to date (.venv)"
  exit 0
fi

echo "installing the python environment into .venv (torch is large: a few minutes the first time)"
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r ml/requirements-local.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e ml
echo "$wanted" > "$stamp"
echo "python environment ready (.venv)"
