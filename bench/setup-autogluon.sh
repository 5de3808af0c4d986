#!/usr/bin/env bash
# Creates .venv-autogluon, the environment bench/quality.py runs AutoGluon (and the statsmodels
# dataset export) in. It is kept apart from .venv so AutoGluon's own pins (pandas 2, pyarrow 24)
# never change what modeldrop's jobs run on.
# Idempotent: a stamp holds the hash of this script, and nothing is done while it matches.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=.venv-autogluon
stamp=$venv/.modeldrop-autogluon.sha256
wanted=$(sha256sum bench/setup-autogluon.sh | cut -d' ' -f1)

if [[ -f $stamp && $(cat "$stamp") == "$wanted" ]]; then
  echo "autogluon environment is up to date ($venv)"
  exit 0
fi

echo "installing AutoGluon into $venv (a few minutes the first time)"
[[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" --upgrade pip
# With only the tree-model extras AutoGluon needs no torch. Should a later pin pull it in, install
# torch==2.13.0 first: this machine serves it as a CPU build from local disk, where the resolver
# would otherwise fetch a multi-GB CUDA build.
"${pip[@]}" "autogluon.tabular[lightgbm,xgboost,catboost]==1.6.3" "statsmodels==0.15.0"
if "$venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "warning: torch got installed into $venv; check that it is the CPU build" >&2
fi
echo "$wanted" > "$stamp"
echo "autogluon environment ready ($venv)"
