#!/usr/bin/env bash
# trainpod pod bootstrap (rendered by @trainpod/core): prints the system, fetches the agent the API serves to the run
# token (its sha256 pinned in TRAINPOD_AGENT_SHA256), makes sure the pinned ML packages are there, then execs the agent
# (pod-agent/README.md). Secrets reach curl through a config on a pipe, never a command line. A failure before the
# agent starts is reported as `failed` in setup (a fixed message); then the pod waits the outcome's grace for the
# worker's DELETE, deletes itself with RunPod's pod-scoped key if the dead-man switch is set, and exits non-zero.
set -Eeuo pipefail

T="${RUNPOD_VOLUME_MOUNT_PATH:-/workspace}/trainpod"
printf -v TRAINPOD_BOOTSTRAP_STARTED '%(%s)T' -1 && export TRAINPOD_BOOTSTRAP_STARTED # the setup phase's start
DELAY="${TRAINPOD_RETRY_DELAY_S:-2}"

log() { local TZ=UTC; printf '%(%Y-%m-%dT%H:%M:%SZ)T %s\n' -1 "$*"; }
ts() { local TZ=UTC l; while IFS= read -r l || [ -n "$l" ]; do printf '%(%Y-%m-%dT%H:%M:%SZ)T %s\n' -1 "$l"; done; }
cfg_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; } # TEXT quoted for a curl config (-K)
self_delete() { # with the dead-man switch's settings: wait the grace for the worker's DELETE, then delete this pod
  [ -n "${RUNPOD_API_KEY:-}" ] && [ -n "${RUNPOD_POD_ID:-}" ] && [ -n "${TRAINPOD_RUNPOD_API_URL:-}" ] || return 0
  sleep "${TRAINPOD_SELF_TERMINATE_GRACE_S:-120}"
  log "self-terminating: setup failed and the pod is still running"
  curl -fsS -o /dev/null --retry 8 --retry-all-errors --retry-delay 5 --connect-timeout 10 --max-time 30 -X DELETE \
    -K <(printf 'header = %s\n' "$(cfg_str "Authorization: Bearer ${RUNPOD_API_KEY}")") \
    "${TRAINPOD_RUNPOD_API_URL%/}/pods/${RUNPOD_POD_ID}" && sleep 60 || log "self-termination failed"
}
setup_failed() { # setup_failed WHAT (a fixed text, never user input): report `failed` in setup, then end
  trap - ERR
  log "setup failed: $1"
  curl -fsS -o /dev/null --retry 3 --retry-all-errors --retry-delay "$DELAY" --connect-timeout 10 --max-time 30 \
    -K <(printf 'header = %s\n' "$(cfg_str "Authorization: Bearer ${TRAINPOD_RUN_TOKEN}")") \
    -H "Content-Type: application/json" --data-binary \
    "{\"type\":\"failed\",\"phase\":\"setup\",\"cause\":\"setup\",\"exitCode\":1,\"message\":\"setup failed: $1\"}" \
    "${TRAINPOD_EVENTS_URL:-}" || log "could not report the setup failure"
  self_delete
  exit 1
}
trap 'setup_failed "the bootstrap stopped at line $LINENO"' ERR
mkdir -p "$T"

GPU=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -n 1 || true)
log "trainpod run ${TRAINPOD_DEPLOYMENT_ID:-} on pod ${RUNPOD_POD_ID:-unknown} ($(hostname 2>/dev/null || true))"
log "date: $(date -u +%Y-%m-%dT%H:%M:%SZ) | gpu: ${GPU:-none} | $(python --version 2>&1 || echo 'no python')"

log "fetching the agent"
curl -fsS --retry 5 --retry-all-errors --retry-delay "$DELAY" --connect-timeout 10 --max-time 120 -o "$T/agent.pyz" \
  -K <(printf 'header = %s\n' "$(cfg_str "Authorization: Bearer ${TRAINPOD_RUN_TOKEN}")") "${TRAINPOD_AGENT_URL:-}" ||
  setup_failed "agent download"
echo "${TRAINPOD_AGENT_SHA256:-}  $T/agent.pyz" | sha256sum -c --status - || setup_failed "agent sha256 mismatch"

# the pinned ML packages (not for the simulator's ML): installed when the pod has not exactly these, on the image's torch;
# on a cache volume (TRAINPOD_CACHE_DIR) the agent's install phase does it, once per data centre (pod-agent cache.py)
PINS_OK='import sys; from importlib.metadata import version as v; sys.exit(any(v(n) != p for n, p in (a.split("==") for a in sys.argv[1:])))'
# shellcheck disable=SC2086 # the pins are words
if [ "${TRAINPOD_ML:-}" != simulated ] && [ -z "${TRAINPOD_CACHE_DIR:-}" ] && ! python -c "$PINS_OK" ${TRAINPOD_TRAINER_REQUIREMENTS:-} 2>/dev/null; then
  TORCH=$(python -c 'import torch; print(torch.__version__)' 2>/dev/null || true)
  printf '%s\n' ${TORCH:+"torch==$TORCH"} > "$T/constraints.txt"
  log "installing ${TRAINPOD_TRAINER_REQUIREMENTS} (torch kept at ${TORCH:-none})"
  python -m pip install --quiet --disable-pip-version-check -c "$T/constraints.txt" ${TRAINPOD_TRAINER_REQUIREMENTS} 2>&1 |
    ts || setup_failed "pip install of the trainer packages"
fi
log "starting the agent"
exec python "$T/agent.pyz"
