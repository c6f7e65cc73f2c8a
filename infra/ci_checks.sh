#!/usr/bin/env bash
# Offline proof of the deployment, run by `make test` (and `make lint`):
#   1. sam validate --lint on template.yaml, cfn-lint on the nested stacks in infra/, and
#      no wildcard IAM action once SAM has expanded its policy templates (infra/check_iam.py)
#   2. asl-validator on the state machine definition (cfn-lint does not look inside it), and
#      its compact layout (infra/format_asl.py --check)
#   3. sam build of one function with its layers (no Docker; needs python3.12 and make): the
#      functions share one build, so one proves them all (infra/lambda_package.py), and every
#      function's package with its layers is checked against Lambda's 250 MB
# The Python-level checks (substitutions, invoke permissions, no wildcard actions, functions
# vs folders) are in tests/unit/test_template.py. The tools are installed by `make install`
# (.venv-sam from infra/requirements-ci.txt, infra/node_modules from infra/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
SAM_VENV="$ROOT/.venv-sam"
step() { printf '\n== %s\n' "$*"; }
started=$SECONDS

step "tools"
make -s --no-print-directory deploy-tools  # installed by `make install`; here only if missing or stale
"$SAM_VENV/bin/sam" --version

step "sam validate --lint"
"$SAM_VENV/bin/sam" validate --lint --template-file template.yaml --region "$AWS_DEFAULT_REGION"

step "IAM after SAM's policy-template expansion: no wildcard action"
"$SAM_VENV/bin/python" infra/check_iam.py

step "cfn-lint on the nested stacks"
"$SAM_VENV/bin/cfn-lint" infra/network.yaml infra/database.yaml
echo "infra/network.yaml and infra/database.yaml are valid"

step "asl-validator"
infra/node_modules/.bin/asl-validator --json-path statemachine/video_pipeline.asl.json \
  --json-path statemachine/segment_media.asl.json
"$SAM_VENV/bin/python" infra/format_asl.py --check statemachine/*.json
echo "statemachine/*.json are laid out by infra/format_asl.py"

step "sam build"
# The Lambda runtime's python must be on PATH (pyenv keeps one on these machines).
# A pyenv shim answers `command -v` even when it cannot run, so try to run it.
if ! python3.12 -c '' 2>/dev/null; then
  for dir in "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.12*/bin /usr/local/bin; do
    if [[ -x "$dir/python3.12" ]]; then export PATH="$dir:$PATH"; break; fi
  done
fi
python3.12 -c '' 2>/dev/null || { echo "sam build needs python3.12 on PATH" >&2; exit 1; }
BUILD_DIR="$ROOT/.aws-sam/build"
target=$("$SAM_VENV/bin/python" infra/lambda_package.py plan)
echo "building: $target"
if [[ "$target" == all ]]; then target=""; fi
# shellcheck disable=SC2086 # an empty target builds every resource
"$SAM_VENV/bin/sam" build --cached --parallel --build-dir "$BUILD_DIR" $target
test -f "$BUILD_DIR/template.yaml"

step "Lambda size limit: a function and its layers stay under 250 MB unzipped"
"$SAM_VENV/bin/python" infra/lambda_package.py sizes "$BUILD_DIR"
echo "deployment checks passed in $((SECONDS - started)) s"
