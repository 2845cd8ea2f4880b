#!/usr/bin/env bash
# trainpod pod start script. Rendered by @trainpod/core; every secret arrives in the environment (and reaches
# curl through a config on a pipe: never on a command line). Downloads the dataset through a single-use token
# URL, trains, uploads artifacts and reports the outcome. The trainpod worker then terminates the pod (exiting
# alone does not stop RunPod's billing); if it does not, the dead-man switch below makes the pod delete itself.
set -Eeuo pipefail

W="${RUNPOD_VOLUME_MOUNT_PATH:-/workspace}"
T="$W/trainpod"
OUT="$W/fine_tuned_model"
LOG="$T/run.log"
PHASE=setup
SHIPPED=0
# HTTP calls: the first try and RETRIES more, RETRY_DELAY seconds apart (tests shorten it), on what a retry can fix
RETRY_DELAY="${TRAINPOD_RETRY_DELAY_S:-2}"
RETRIES=5
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

pause() { sleep "$1"; } # the script's only wait: retry delays and the dead-man switch

cfg_str() { # cfg_str TEXT: a quoted string for a curl config file (-K)
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}
api_error_code() { # api_error_code FILE: " CODE" when FILE is the API's JSON error {"error":{"code":"CODE",...}}
  local body=""
  [ -s "$1" ] && IFS= read -r -N 4096 body < "$1" || true
  if [[ $body =~ \"code\"[[:space:]]*:[[:space:]]*\"([A-Za-z0-9_.-]{1,64})\" ]]; then printf ' %s' "${BASH_REMATCH[1]}"; fi
}

# http_call WHAT OUT_FILE CONFIG CURL_ARGS...: one HTTP request; CONFIG = curl config lines holding the secrets
# (url, header), read from a pipe. Retried only on what a retry can fix: connection errors (refused, reset, DNS,
# timeouts, a transfer broken mid-way) and HTTP 408, 429, 5xx; any other answer (401, 403, 404...) ends it at
# once. Sets HTTP_STATUS (000: no answer) and HTTP_WHY; returns 0 on 2xx, else curl's exit code (22: HTTP error).
http_call() {
  local what=$1 out=$2 cfg=$3 attempt=0 rc status retry err="$T/curl.$BASHPID.err"
  shift 3
  while :; do
    rc=0
    status=$(curl -sS -o "$out" -w '%{http_code}' -K <(printf '%s\n' "$cfg") "$@" 2>"$err") || rc=$?
    HTTP_STATUS=${status:-000}
    if [ "$rc" -ne 0 ]; then
      HTTP_WHY="curl exit code ${rc}: $(tail -n 1 "$err" 2>/dev/null || true)"
      case $rc in 5 | 6 | 7 | 16 | 18 | 28 | 35 | 52 | 55 | 56 | 92) retry=1 ;; *) retry=0 ;; esac
    elif [[ $HTTP_STATUS == 2?? ]]; then
      return 0
    else
      rc=22
      HTTP_WHY="HTTP ${HTTP_STATUS}$(api_error_code "$out")"
      case $HTTP_STATUS in 408 | 429 | 5??) retry=1 ;; *) retry=0 ;; esac
    fi
    if [ "$retry" = 0 ]; then
      HTTP_WHY+=" (not retried)"
      return "$rc"
    fi
    if [ "$attempt" -ge "$RETRIES" ]; then
      HTTP_WHY+=" ($((attempt + 1)) attempts)"
      return "$rc"
    fi
    attempt=$((attempt + 1))
    log "${what}: ${HTTP_WHY}; retry ${attempt}/${RETRIES} in ${RETRY_DELAY} s"
    pause "$RETRY_DELAY"
  done
}

try_report() { # try_report JSON_BODY: POST one event; 0 once it reached the API (noted in $LAST_REPORT)
  local RETRY_DELAY=1 body="$T/report.$BASHPID.json"
  printf '%s' "$1" > "$body"
  http_call "report" "$T/report.$BASHPID.out" "header = $(cfg_str "Authorization: Bearer ${TRAINPOD_RUN_TOKEN}")" \
    --connect-timeout 5 --max-time 30 -X POST -H "Content-Type: application/json" --data-binary "@$body" "${TRAINPOD_EVENTS_URL}" || return
  printf '%(%s)T\n' -1 > "$LAST_REPORT"
}
report() { # report JSON_BODY: a failure to report never fails the run
  try_report "$1" || log "warning: could not report an event: ${HTTP_WHY}"
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
  finish "$1"
}
on_err() { # on_err EXIT_CODE LINE COMMAND (the command's text, unexpanded: no secret in it)
  log "error: line $2: $3 (exit $1)"
  fail "$1" "${PHASE} failed at line $2: $3 (exit $1)"
}
trap 'on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR

# --- dead-man switch: the pod deletes itself when the orchestrator cannot ---
# After the outcome is reported, the worker's DELETE has TRAINPOD_SELF_TERMINATE_GRACE_S to come; a watchdog ends
# the pod at TRAINPOD_MAX_RUNTIME_S + that grace, and once no report has reached the API for TRAINPOD_UNREACHABLE_S
# (and one more report fails). It uses RunPod's RUNPOD_POD_ID and pod-scoped RUNPOD_API_KEY; off without them.
uint() { [[ ${1:-} =~ ^[0-9]+$ ]] && printf '%s' "$1" || printf '%s' "$2"; }
GRACE=$(uint "${TRAINPOD_SELF_TERMINATE_GRACE_S:-}" 120)
UNREACHABLE=$(uint "${TRAINPOD_UNREACHABLE_S:-}" 900)
MAX_RUNTIME=$(uint "${TRAINPOD_MAX_RUNTIME_S:-}" 0) # 0: no limit
LAST_REPORT="$T/last-report"
DEADMAN=1
missing=""
for v in RUNPOD_API_KEY RUNPOD_POD_ID TRAINPOD_RUNPOD_API_URL; do [ -n "${!v:-}" ] || missing+=" $v"; done
[ -z "$missing" ] || { DEADMAN=0 && log "dead-man switch off: missing${missing}"; }
# when this pod first started, and its last report: kept across container restarts (a new pod starts afresh)
pod0="" started0=""
[ ! -f "$T/deadman-pod" ] || read -r pod0 started0 < "$T/deadman-pod" || true
if [ "$pod0" != "${RUNPOD_POD_ID:-}" ] || ! [[ $started0 =~ ^[0-9]+$ ]]; then
  printf -v started0 '%(%s)T' -1
  printf '%s %s\n' "${RUNPOD_POD_ID:-}" "$started0" > "$T/deadman-pod"
  printf '%s\n' "$started0" > "$LAST_REPORT"
fi
[ -s "$LAST_REPORT" ] || printf '%(%s)T\n' -1 > "$LAST_REPORT"

self_terminate() { # self_terminate REASON [quiet]: DELETE this pod; 0 when done, 1 to try again later, 2 never
  local line TZ=UTC RETRIES=8 RETRY_DELAY=5
  printf -v line '%(%Y-%m-%dT%H:%M:%SZ)T self-terminating: %s' -1 "$1"
  printf '%s\n' "$line"
  # reported once (best effort: the API may be the reason), not at every try
  [ "${2:-}" = quiet ] || [ -n "${SAID_SELF_TERMINATING:-}" ] || try_report "{\"type\":\"log\",\"lines\":[$(json_str "$line")]}" || true
  SAID_SELF_TERMINATING=1
  if http_call "self-termination" "$T/self-delete.$BASHPID.out" "header = $(cfg_str "Authorization: Bearer ${RUNPOD_API_KEY}")" \
    --connect-timeout 10 --max-time 30 -X DELETE "${TRAINPOD_RUNPOD_API_URL%/}/pods/${RUNPOD_POD_ID}" || [ "$HTTP_STATUS" = 404 ]; then
    return 0 # 204: RunPod stops the pod; 404: it is gone already
  fi
  log "self-termination failed: ${HTTP_WHY}"
  case $HTTP_STATUS in 000 | 408 | 429 | 5??) return 1 ;; *) return 2 ;; esac
}
watchdog() { # in the background for the script's whole life
  trap - ERR
  set +e
  local now last line every=$(((GRACE < 30 || UNREACHABLE < 30 || (MAX_RUNTIME > 0 && MAX_RUNTIME < 30)) ? 1 : 5))
  while pause "$every"; do
    printf -v now '%(%s)T' -1
    if [ "$MAX_RUNTIME" -gt 0 ] && [ "$now" -ge $((started0 + MAX_RUNTIME + GRACE)) ]; then
      self_terminate "max runtime ${MAX_RUNTIME} s + grace ${GRACE} s reached ($((now - started0)) s since the script first started)"
      [ $? = 1 ] || return
      continue
    fi
    last=""
    read -r last < "$LAST_REPORT"
    [[ $last =~ ^[0-9]+$ ]] && [ $((now - last)) -ge "$UNREACHABLE" ] || continue
    # silence may only mean the trainer was busy (its own reports are not seen here): one report settles it
    line=$(TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T watchdog: no report from the script for %s s' -1 $((now - last)))
    printf '%s\n' "$line"
    try_report "{\"type\":\"log\",\"lines\":[$(json_str "$line")]}" && continue
    printf -v now '%(%s)T' -1
    self_terminate "no report reached the API for $((now - last)) s" quiet
    [ $? = 1 ] || return
  done
}
finish() { # finish EXIT_CODE: the outcome is reported; the worker deletes the pod, or the pod deletes itself
  local rc=2
  if [ "$DEADMAN" = 1 ]; then
    log "waiting up to ${GRACE} s for the worker to delete the pod"
    pause "$GRACE"
    while :; do
      rc=0
      self_terminate "outcome (exit code $1) reported ${GRACE} s ago and the pod is still running" || rc=$?
      [ "$rc" = 1 ] || break
    done
  fi
  [ "$rc" != 0 ] || pause 60 # deleted: RunPod stops the container (exiting now could restart it first)
  exit "$1"
}
if [ "$DEADMAN" = 1 ]; then
  watchdog &
  WATCHDOG=$!
  trap 'kill "$WATCHDOG" 2>/dev/null || true' EXIT
fi

# --- system information ---
GPU=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -n 1 || true)
GPU=${GPU:-No GPU}
PY=$(python --version 2>&1 || echo "no python")
log "trainpod run ${TRAINPOD_DEPLOYMENT_ID} on pod ${RUNPOD_POD_ID:-unknown} ($(hostname))"
log "date: $(date -u) | gpu: ${GPU} | ${PY}"
# --- trainer packages: always the pinned set (a no-op when satisfied), never another torch than the image's ---
printf '%s' "${TRAINPOD_TRAINER_B64}" | base64 -d > "$T/train.py"
TORCH=$(python -c 'import torch; print(torch.__version__)' 2>/dev/null || true)
if [ -n "$TORCH" ]; then printf 'torch==%s\n' "$TORCH" > "$T/constraints.txt"; else : > "$T/constraints.txt"; fi
log "installing trainer packages: ${TRAINPOD_TRAINER_REQUIREMENTS} (torch kept at ${TORCH:-none})"
# shellcheck disable=SC2086
python -m pip install --quiet --disable-pip-version-check -c "$T/constraints.txt" ${TRAINPOD_TRAINER_REQUIREMENTS} 2>&1 | ts | tee -a "$LOG"
PKGS=$(python -c 'from importlib.metadata import version as v; print(", ".join(n + " " + v(n) for n in ("torch", "transformers", "peft", "trl", "datasets", "accelerate")))' 2>&1 | tail -n 1 || true)
log "trainer packages: ${PKGS:-unknown}"
report "{\"type\":\"started\",\"system\":{\"date\":$(json_str "$(date -u +%FT%TZ)"),\"gpu\":$(json_str "$GPU"),\"python\":$(json_str "$PY"),\"hostname\":$(json_str "$(hostname)"),\"podId\":$(json_str "${RUNPOD_POD_ID:-}"),\"packages\":$(json_str "${PKGS:-unknown}")}}"

# --- dataset ---
PHASE=dataset_download
started=$(date +%s)
log "downloading the dataset"
# the token URL answers with the bytes (the API's disk) or, spending the token, a redirect to a presigned URL of
# the bucket: that one is then fetched with retries that resume (-C -), as the token cannot be spent again
rc=0
http_call "dataset download" "$T/dataset.jsonl" "url = $(cfg_str "${TRAINPOD_DATASET_URL}")" \
  --connect-timeout 10 --speed-limit 1 --speed-time 120 -D "$T/dataset.headers" || rc=$?
if [ "$rc" != 0 ] && [ "$HTTP_STATUS" = 302 ]; then
  bucket_url=$(sed -n 's/^[Ll]ocation:[[:space:]]*//p' "$T/dataset.headers" | tr -d '\r' | tail -n 1)
  rc=0
  : > "$T/dataset.jsonl"
  http_call "dataset download from the bucket" "$T/dataset.jsonl" "url = $(cfg_str "$bucket_url")" \
    --connect-timeout 10 --speed-limit 1 --speed-time 120 -C - || rc=$?
fi
[ "$rc" = 0 ] || fail "$rc" "dataset download failed: ${HTTP_WHY}"
echo "${TRAINPOD_DATASET_SHA256}  $T/dataset.jsonl" | sha256sum -c --status - || fail 1 "dataset sha256 mismatch"
bytes=$(wc -c < "$T/dataset.jsonl")
log "dataset downloaded: ${bytes} bytes, sha256 verified"
report "{\"type\":\"dataset_downloaded\",\"bytes\":${bytes},\"seconds\":$(( $(date +%s) - started ))}"


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
# Each file is declared (path, size, sha256) and the API answers how to send it: through the API (mode api), one
# presigned PUT to the bucket (s3) or parts of partSizeBytes (s3-multipart), each checked by its sha256 there;
# a file stored already is skipped (stored). docs/artifacts.md.
PHASE=upload
RUN_AUTH="header = $(cfg_str "Authorization: Bearer ${TRAINPOD_RUN_TOKEN}")"
json_field() { # json_field FILE NAME: a string or whole-number field of the API's flat JSON answer
  local body="" re="\"$2\"[[:space:]]*:[[:space:]]*(\"([^\"]*)\"|([0-9]+))"
  [ -s "$1" ] && IFS= read -r -d '' -N 65536 body < "$1" || true
  [[ $body =~ $re ]] && printf '%s' "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
}
post_json() { # post_json WHAT OUT_FILE URL JSON: POST to the API with the run token
  local body="$T/post.$BASHPID.json"
  printf '%s' "$4" > "$body"
  http_call "$1" "$2" "$RUN_AUTH" --connect-timeout 10 --max-time 60 -X POST -H "Content-Type: application/json" --data-binary "@$body" "$3"
}
put_presigned() { # put_presigned WHAT FILE URL_ANSWER: PUT FILE to the URL the API signed (headers from the same answer)
  local url sum cfg
  url=$(json_field "$3" url)
  sum=$(json_field "$3" x-amz-checksum-sha256)
  cfg="url = $(cfg_str "$url")"
  [ -z "$sum" ] || cfg+=$'\n'"header = $(cfg_str "x-amz-checksum-sha256: ${sum}")"
  http_call "$1" "$T/put.out" "$cfg" --connect-timeout 10 -T "$2" -D "$T/put.headers"
}
upload_artifact() { # upload_artifact FILE REL
  local f=$1 rel path size sha mode parts psize psha i part="$T/part.bin" etag done_parts=""
  rel=$2
  path=$(json_str "$rel" 2000)
  size=$(stat -c %s "$f")
  sha=$(sha256sum "$f" | cut -d' ' -f1)
  post_json "declare ${rel}" "$T/plan.json" "${TRAINPOD_ARTIFACTS_URL}" "{\"path\":${path},\"sizeBytes\":${size},\"sha256\":\"${sha}\"}" || return
  mode=$(json_field "$T/plan.json" mode)
  case $mode in
    stored) return 0 ;;
    api) http_call "upload ${rel}" "$T/upload.out" "$RUN_AUTH" --connect-timeout 10 -T "$f" "${TRAINPOD_ARTIFACTS_URL}/${rel}" ;;
    s3)
      post_json "upload URL of ${rel}" "$T/url.json" "${TRAINPOD_ARTIFACTS_URL}/url" "{\"path\":${path}}" || return
      put_presigned "upload ${rel}" "$f" "$T/url.json" || return
      post_json "complete ${rel}" "$T/complete.out" "${TRAINPOD_ARTIFACTS_URL}/complete" "{\"path\":${path}}"
      ;;
    s3-multipart)
      parts=$(json_field "$T/plan.json" partCount)
      psize=$(json_field "$T/plan.json" partSizeBytes)
      log "uploading ${rel} in ${parts} parts of ${psize} bytes"
      for ((i = 1; i <= parts; i++)); do
        dd if="$f" of="$part" bs="$psize" skip=$((i - 1)) count=1 status=none
        psha=$(sha256sum "$part" | cut -d' ' -f1)
        post_json "upload URL of ${rel} part ${i}" "$T/url.json" "${TRAINPOD_ARTIFACTS_URL}/url" \
          "{\"path\":${path},\"partNumber\":${i},\"sha256\":\"${psha}\"}" || return
        put_presigned "upload ${rel} part ${i}/${parts}" "$part" "$T/url.json" || return
        etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]:[[:space:]]*//p' "$T/put.headers" | tr -d '\r' | tail -n 1)
        done_parts+="${done_parts:+,}{\"partNumber\":${i},\"etag\":$(json_str "$etag"),\"sha256\":\"${psha}\"}"
      done
      rm -f "$part"
      post_json "complete ${rel}" "$T/complete.out" "${TRAINPOD_ARTIFACTS_URL}/complete" "{\"path\":${path},\"parts\":[${done_parts}]}"
      ;;
    *)
      HTTP_WHY="the API answered an unknown upload mode '${mode}'"
      return 1
      ;;
  esac
}
while IFS= read -r -d '' f; do
  rel=${f#"$OUT"/}
  upload_artifact "$f" "$rel" || fail "$?" "upload of ${rel} failed: ${HTTP_WHY}"
  log "uploaded ${rel}"
done < <(find "$OUT" -type f -print0)
log "completed"
ship_logs
report '{"type":"completed"}'
finish 0
