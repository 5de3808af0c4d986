#!/usr/bin/env bash
# Static checks of what gets deployed: the ASL files with asl-validator, and the CloudFormation
# template `serverless package` writes (offline) with cfn-lint and checkov. Skips are justified in
# .cfnlintrc.yaml, .checkov.yaml and resources' Metadata in serverless.yml.
# cfn-lint and checkov live in .venv-checks/, created from .ci/requirements-checks.txt; a stamp
# holds the hash of that file, and the environment is left alone while it matches.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=.venv-checks
stamp=$venv/.modeldrop-requirements.sha256
wanted=$(sha256sum .ci/requirements-checks.txt | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
  echo "installing cfn-lint and checkov into $venv"
  [[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r .ci/requirements-checks.txt
  echo "$wanted" > "$stamp"
fi

for definition in statemachines/*.asl.json; do
  npx asl-validator --json-path "$definition"
done

# The dashboard's built files are part of its function's package.
npx tsx web/build.ts > /dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! log=$(npx serverless package --package "$out" 2>&1); then
  echo "$log" >&2
  exit 1
fi
echo "✓ serverless package: packaged offline"
template=$out/cloudformation-template-update-stack.json

"$venv/bin/cfn-lint" --config-file .cfnlintrc.yaml -- "$template"
echo "✓ cfn-lint: no findings in the packaged template"
# Offline and repeatable: no update check, nothing fetched from the Prisma Cloud platform.
CKV_SKIP_PACKAGE_UPDATE_CHECK=true "$venv/bin/checkov" --config-file .checkov.yaml --file "$template"
