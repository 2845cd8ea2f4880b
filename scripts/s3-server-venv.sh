#!/usr/bin/env bash
# Builds the venv of the tests' S3 server (LocalStack, S3 only, no Docker: test/support/s3-server.ts starts it)
# from test/s3/requirements.txt (a frozen, known-good set) with python >= 3.13, which localstack-core needs.
# The venv lives outside the clone, so fresh clones (CI) reuse it:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/trainpod/s3-server-venv-<first 12 hex of the stamp>
# where the stamp hashes the requirements, this recipe and the python version. Idempotent: an existing venv with
# the same stamp is only checked (well under a second). Safe when two runs build at once: each builds in a temp
# dir and renames it into place; the loser drops its copy and uses the winner's. Renamed venvs keep a working
# bin/python but their console scripts (bin/pip, bin/localstack) point at the temp dir: use `python -m`.
# The venv also holds LocalStack's service catalog, built once (localstack-fs/usr/lib/localstack), which saves
# each server start a few seconds.
# Prints the venv's python on its last line.
# Env: S3_SERVER_PYTHON_BIN (the python to build with; default python3.13 on PATH, else pyenv's 3.13),
#      S3_SERVER_VENV (where the venv goes; default above).
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=test/s3/requirements.txt
RECIPE=1 # bump when the build steps below change

usable() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' >/dev/null 2>&1; }
find_python() {
  if [ -n "${S3_SERVER_PYTHON_BIN:-}" ]; then
    if usable "$S3_SERVER_PYTHON_BIN"; then echo "$S3_SERVER_PYTHON_BIN"; return; fi
    echo "S3_SERVER_PYTHON_BIN=$S3_SERVER_PYTHON_BIN is not a working python >= 3.13" >&2
    return 1
  fi
  # a pyenv shim named python3.13 may exist without that version being selected: `usable` runs it to be sure
  local candidate
  for candidate in python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python /root/.pyenv/versions/3.13*/bin/python; do
    if usable "$candidate"; then echo "$candidate"; return; fi
  done
  echo "no python >= 3.13 found (tried python3.13 on PATH and pyenv's versions/3.13*): install one or set S3_SERVER_PYTHON_BIN" >&2
  return 1
}
PY=$(find_python)

want=$({ cat "$REQ"; echo "recipe $RECIPE"; "$PY" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
VENV="${S3_SERVER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/trainpod/s3-server-venv-${want:0:12}}"
VENV="${VENV%/}"

ready() {
  [ -f "$1/.trainpod-stamp" ] && [ "$(cat "$1/.trainpod-stamp")" = "$want" ] &&
    "$1/bin/python" -c 'import localstack.runtime.main' 2>/dev/null
}

if ready "$VENV"; then
  echo "S3 server venv up to date: $VENV" >&2
else
  echo "building the S3 server venv (LocalStack) in $VENV with $PY" >&2
  mkdir -p "$(dirname "$VENV")"
  tmp=$(mktemp -d "$VENV.building.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  chmod 755 "$tmp" # mktemp's 0700 would stay with the venv
  "$PY" -m venv "$tmp"
  "$tmp/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" >&2
  mkdir -p "$tmp/localstack-fs/usr/lib/localstack"
  OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$tmp/localstack-fs" "$tmp/bin/python" -m localstack.aws.spec >&2
  "$tmp/bin/python" -c 'import localstack.runtime.main, localstack.services.s3.provider, cbor2._decoder, service_identity' >&2
  printf '%s\n' "$want" >"$tmp/.trainpod-stamp"
  rename() { "$PY" -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$1" "$2" 2>/dev/null; }
  if [ -e "$VENV" ] && ! ready "$VENV"; then
    # a stale or broken venv (only with S3_SERVER_VENV, or an older recipe's leftovers): move it aside first,
    # so a concurrent run never sees it half removed
    stale="$VENV.stale.$$"
    if rename "$VENV" "$stale"; then rm -rf "$stale"; fi
  fi
  if rename "$tmp" "$VENV"; then
    trap - EXIT
  elif ready "$VENV"; then
    echo "another run built $VENV first: using it" >&2
  else
    echo "could not move the new venv to $VENV" >&2
    exit 1
  fi
fi
echo "$VENV/bin/python"
