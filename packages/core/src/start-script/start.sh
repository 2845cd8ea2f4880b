#!/usr/bin/env bash
# trainpod pod start script. Rendered by @trainpod/core; every secret arrives in the environment.
# Downloads the dataset through a single-use token URL, trains, uploads artifacts, reports the outcome,
# and exits: the trainpod worker terminates the pod (exiting alone does not stop RunPod's billing).
set -Eeuo pipefail

W="${RUNPOD_VOLUME_MOUNT_PATH:-/workspace}"
T="$W/trainpod"
OUT="$W/fine_tuned_model"
LOG="$T/run.log"
PHASE=setup
SHIPPED=0
# seconds between curl retries of the dataset download and artifact uploads (tests shorten it)
RETRY_DELAY="${TRAINPOD_RETRY_DELAY_S:-2}"
mkdir -p "$T" "$OUT"
: > "$LOG"

# prefix each line with a UTC timestamp (printf's %(...)T builtin: no `date` process per line)
ts() { local TZ=UTC; while IFS= read -r l || [ -n "$l" ]; do printf '%(%Y-%m-%dT%H:%M:%SZ)T %s\n' -1 "$l"; done; }
log() { # log TEXT: timestamped, to the pod's output and to $LOG (no subshell, no tee: it runs often)
  local TZ=UTC l line
  while IFS= read -r l; do
    printf -v line '%(%Y-%m-%dT%H:%M:%SZ)T %s' -1 "$l"
    printf '%s\n' "$line"
    printf '%s\n' "$line" >> "$LOG"
  done <<<"$*"
}

json_str() { # json_str TEXT [MAX_BYTES]: a JSON string, cut to MAX_BYTES (default 1000) so events stay
  # within the API's limits (4000 chars a line, 2000 a message, 256 KB a body) however long the output
  local LC_ALL=C s=$1 max=${2:-1000}
  [ "${#s}" -le "$max" ] || s="${s:0:$max}..."
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/\\t}; s=${s//$'\r'/\\r}; s=${s//$'\n'/\\n}
  s=${s//[[:cntrl:]]/} # what is left of the control characters (tab, CR, LF are escaped above)
  printf '"%s"' "$s"
}
json_lines() {
  local first=1 l
  printf '['
  while IFS= read -r l || [ -n "$l" ]; do
    [ "$first" = 1 ] || printf ','
    first=0
    json_str "$l"
  done
  printf ']'
}

report() { # report JSON_BODY: POST one event; a failure to report never fails the run
  curl -sS --fail --retry 5 --retry-all-errors --retry-delay 1 --connect-timeout 5 --max-time 30 \
    -X POST -H "Authorization: Bearer ${TRAINPOD_RUN_TOKEN}" -H "Content-Type: application/json" \
    --data-binary @- "${TRAINPOD_EVENTS_URL}" >/dev/null <<<"$1" || log "warning: could not report an event"
}

ship_logs() { # ship the lines logged since the last call, 100 at a time
  # (sed reads the whole file: `tail | head` dies of SIGPIPE on a long log, and with pipefail + errtrace
  # that fired the ERR trap inside the command substitution, reporting a bogus failure)
  local total
  total=$(wc -l < "$LOG")
  while [ "$SHIPPED" -lt "$total" ]; do
    report "{\"type\":\"log\",\"lines\":$(sed -n "$((SHIPPED + 1)),$((SHIPPED + 100))p" "$LOG" | json_lines)}"
    SHIPPED=$((SHIPPED + 100 < total ? SHIPPED + 100 : total))
  done
}

fail() { # fail EXIT_CODE MESSAGE
  trap - ERR
  ship_logs
  report "{\"type\":\"failed\",\"phase\":\"${PHASE}\",\"exitCode\":$1,\"message\":$(json_str "$2"),\"lines\":$(tail -n 100 "$LOG" | json_lines)}"
  exit "$1"
}
on_err() { # on_err EXIT_CODE LINE COMMAND (the command's text, unexpanded: no secret in it)
  log "error: line $2: $3 (exit $1)"
  fail "$1" "${PHASE} failed at line $2: $3 (exit $1)"
}
trap 'on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR

# --- system information ---
GPU=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -n 1 || true)
GPU=${GPU:-No GPU}
PY=$(python --version 2>&1 || echo "no python")
log "trainpod run ${TRAINPOD_DEPLOYMENT_ID} on pod ${RUNPOD_POD_ID:-unknown} ($(hostname))"
log "date: $(date -u) | gpu: ${GPU} | ${PY}"
report "{\"type\":\"started\",\"system\":{\"date\":$(json_str "$(date -u +%FT%TZ)"),\"gpu\":$(json_str "$GPU"),\"python\":$(json_str "$PY"),\"hostname\":$(json_str "$(hostname)"),\"podId\":$(json_str "${RUNPOD_POD_ID:-}")}}"

# --- dataset ---
PHASE=dataset_download
started=$(date +%s)
log "downloading the dataset"
code=0
curl -sS --fail --retry 5 --retry-all-errors --retry-delay "$RETRY_DELAY" --connect-timeout 10 \
  -o "$T/dataset.jsonl" "${TRAINPOD_DATASET_URL}" 2>&1 | ts | tee -a "$LOG" || code=${PIPESTATUS[0]}
[ "$code" -eq 0 ] || fail "$code" "dataset download failed (curl exit code ${code})"
echo "${TRAINPOD_DATASET_SHA256}  $T/dataset.jsonl" | sha256sum -c --status - || fail 1 "dataset sha256 mismatch"
bytes=$(wc -c < "$T/dataset.jsonl")
log "dataset downloaded: ${bytes} bytes, sha256 verified"
report "{\"type\":\"dataset_downloaded\",\"bytes\":${bytes},\"seconds\":$(( $(date +%s) - started ))}"

# --- trainer ---
PHASE=setup
printf '%s' "${TRAINPOD_TRAINER_B64}" | base64 -d > "$T/train.py"
if ! python -c "import transformers, peft, trl, datasets" >/dev/null 2>&1; then
  log "installing trainer packages: ${TRAINPOD_TRAINER_REQUIREMENTS}"
  # shellcheck disable=SC2086
  python -m pip install --quiet ${TRAINPOD_TRAINER_REQUIREMENTS} 2>&1 | ts | tee -a "$LOG"
fi
ship_logs

PHASE=training
log "training ${TRAINPOD_BASE_MODEL}"
# `|| code=` and not `set +e`: the ERR trap fires under `set +e` too, and would report the failure as `tee`'s
code=0
python "$T/train.py" --dataset "$T/dataset.jsonl" --output-dir "$OUT" --base-model "${TRAINPOD_BASE_MODEL}" \
  --hyperparameters "${TRAINPOD_HYPERPARAMETERS}" --events-url "${TRAINPOD_EVENTS_URL}" 2>&1 | ts | tee -a "$LOG" || code=${PIPESTATUS[0]}
if [ "$code" -ne 0 ]; then
  log "training failed with exit code ${code}"
  fail "$code" "training exited with code ${code}"
fi

# --- artifacts ---
PHASE=upload
while IFS= read -r -d '' f; do
  rel=${f#"$OUT"/}
  curl -sS --fail --retry 5 --retry-all-errors --retry-delay "$RETRY_DELAY" --connect-timeout 10 \
    -H "Authorization: Bearer ${TRAINPOD_RUN_TOKEN}" -T "$f" "${TRAINPOD_ARTIFACTS_URL}/${rel}" >/dev/null
  log "uploaded ${rel}"
done < <(find "$OUT" -type f -print0)
log "completed"
ship_logs
report '{"type":"completed"}'
exit 0
