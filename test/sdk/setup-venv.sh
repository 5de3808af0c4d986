#!/usr/bin/env bash
# Creates .venv-sdk/, the SageMaker Python SDK (v2) that test/integration/sagemaker-sdk.test.ts
# points at the local cloud, from the exact pins in test/sdk/requirements.txt.
# Idempotent: a stamp holds the hash of that file, and nothing is done while it matches.
set -euo pipefail
cd "$(dirname "$0")/../.."

python=${PYTHON:-python3}
venv=.venv-sdk
stamp=$venv/.modeldrop-requirements.sha256
wanted=$(sha256sum test/sdk/requirements.txt | cut -d' ' -f1)

if [[ -f $stamp && $(cat "$stamp") == "$wanted" ]]; then
  echo "sagemaker sdk environment is up to date ($venv)"
  exit 0
fi

echo "installing the sagemaker python sdk into $venv (about a minute the first time)"
[[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r test/sdk/requirements.txt
echo "$wanted" > "$stamp"
echo "sagemaker sdk environment ready ($venv)"
