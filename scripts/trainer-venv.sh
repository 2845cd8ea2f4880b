#!/usr/bin/env bash
# Builds the trainer's test venv (.venv-trainer/, git-ignored) from the trainer's requirements-test.txt (the
# pod's pins in requirements.txt plus torch==2.13.0, pytest, pytest-cov and ruff), found beside the pod agent
# (pod-agent/) or in packages/core/trainer. Idempotent: when the venv was built from the same requirement files
# and python, it only checks the venv's python runs (well under a second).
# Prints the venv's python path on its last line. Env: TRAINER_VENV (default <repo>/.venv-trainer), PYTHON (python3).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${TRAINER_VENV:-$PWD/.venv-trainer}"
PY="${PYTHON:-python3}"
REQ=pod-agent
[ -f "$REQ/requirements-test.txt" ] || REQ=packages/core/trainer
stamp_of() { cat "$REQ/requirements.txt" "$REQ/requirements-test.txt" "$REQ/requirements-wandb.txt"; "$PY" -c 'import sys; print(sys.version)'; }
want=$(stamp_of | sha256sum | cut -d' ' -f1)
if [ -f "$VENV/.trainpod-stamp" ] && [ "$(cat "$VENV/.trainpod-stamp")" = "$want" ] && "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  echo "trainer venv up to date: $VENV" >&2
else
  echo "building the trainer venv in $VENV" >&2
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ/requirements-test.txt" >&2
  "$VENV/bin/python" -c 'import torch, transformers, peft, trl, datasets, accelerate, tokenizers, pytest, pytest_cov, ruff' >&2
  printf '%s\n' "$want" > "$VENV/.trainpod-stamp"
fi
echo "$VENV/bin/python"
