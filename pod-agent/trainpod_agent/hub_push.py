"""The run's output pushed to the user's Hugging Face repo (issue 25 item 4), once it is stored in trainpod: a push
that fails loses nothing and never fails the run; it is reported as a `hub_push` event, {url} or {error}, which the
API keeps as the deployment's hubPushedUrl / hubPushError.

What is pushed: the adapter and the tokenizer (output_dir less merged/), and with hub_merged the merged weights too
(output_dir/merged, made when the run merges: hyperparameter merge_adapter), in one commit to the repo, created
private when missing, with the user's HF_TOKEN, through huggingface_hub (create_repo, upload_folder: the hub says
which files go inline and which through its LFS / Xet storage). Retried with a doubling delay on no answer, 408, 429
and 5xx; 401, 403 and 404 are said plainly and not retried. The token is never in a log line or a report.
"""

from __future__ import annotations

import os
from typing import Any

from trainpod_agent.clock import Clock
from trainpod_agent.config import ResultSettings
from trainpod_agent.http import Log

MERGED = "merged"  # ml/save.py's folder of the merged weights
TIMEOUT_S = 300.0  # huggingface_hub's client waits forever by default: a stalled hub must not hold the pod
RETRIES = 4
MAX_DELAY_S = 60.0
ERROR_MAX = 2000


class PushFailed(Exception):
    """`status` the hub's HTTP answer, 0 for none (a timeout, a reset), -1 for an error on this side."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status, self.why = status, why

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status in (408, 429) or self.status >= 500


def _refusal(status: int, repo: str) -> str:
    if status == 401:
        return "HTTP 401: the hub refused HF_TOKEN: invalid or expired, or the token lacks write access to %s" % repo
    if status == 403:
        return "HTTP 403: the token (HF_TOKEN) lacks write access to %s" % repo
    if status == 404:
        return "HTTP 404: %s was not found, or HF_TOKEN cannot see it" % repo
    return "HTTP %d from the hub" % status


def classify(err: BaseException, repo: str) -> PushFailed:
    """huggingface_hub's error as a PushFailed: its HTTP status, no answer (its HTTP client's timeouts and network
    errors), or this side's error. Never the error's own text for HTTP errors (it quotes the hub's answer)."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(err, PushFailed):
        return err
    if isinstance(err, HfHubHTTPError):
        response = getattr(err, "response", None)
        status = int(getattr(response, "status_code", 0) or 0)
        return PushFailed(status, _refusal(status, repo)) if status else PushFailed(0, "no answer from the hub")
    if type(err).__module__.split(".")[0].startswith("httpx") or isinstance(err, (TimeoutError, ConnectionError)):
        return PushFailed(0, "no answer from the hub: %s" % type(err).__name__)
    return PushFailed(-1, "%s: %s" % (type(err).__name__, str(err)[:500]))


def _client_timeout() -> None:
    from huggingface_hub import get_session

    get_session().timeout = TIMEOUT_S  # httpx reads a number as every timeout (connect, read, write, pool)


def _count(folder: str, merged: bool) -> tuple[int, int]:
    files = size = 0
    for root, dirs, names in os.walk(folder):
        if root == folder and not merged:
            dirs[:] = [d for d in dirs if d != MERGED]
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(root, name))
    return files, size


def push_once(output_dir: str, settings: ResultSettings, merged: bool) -> str:
    """One try: the repo (private, kept when it exists), then the folder in one commit; the commit's URL."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=settings.hub_endpoint or None, token=settings.hf_token)
    api.create_repo(settings.hub_repo, private=True, exist_ok=True)
    info = api.upload_folder(
        repo_id=settings.hub_repo,
        folder_path=output_dir,
        commit_message="trainpod: fine-tuned %s" % ("adapter and merged weights" if merged else "adapter"),
        ignore_patterns=None if merged else [MERGED + "/*"],
    )
    return str(info.commit_url)


def _skip_reason(settings: ResultSettings, simulated: bool) -> str | None:
    if not settings.hf_token:
        return "not pushed: the pod has no HF_TOKEN (name the HF_TOKEN secret in the deployment's secrets)"
    if simulated and not settings.hub_endpoint:
        return "not pushed: simulated ML pushes only to an HF_ENDPOINT set for it (never the real hub)"
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        return "not pushed: huggingface_hub is not installed on the pod"
    return None


def push_output(
    output_dir: str, settings: ResultSettings, clock: Clock, log: Log, delay: float = 2.0, simulated: bool = False,
    retries: int = RETRIES,
) -> dict[str, Any]:
    """Pushes output_dir (never raises) and returns the `hub_push` event: {url} when it is on the hub, else {error}."""
    repo = settings.hub_repo
    skip = _skip_reason(settings, simulated)
    if skip is not None:
        log("hub push of %s skipped: %s" % (repo, skip))
        return {"type": "hub_push", "error": skip}
    merged = settings.hub_merged and os.path.isdir(os.path.join(output_dir, MERGED))
    if settings.hub_merged and not merged:
        log("hub push: no merged weights (the run did not merge: hyperparameter merge_adapter); the adapter only")
    files, size = _count(output_dir, merged)
    log("pushing %d file(s), %d bytes (%s) to the hub repo %s" % (files, size, "adapter and merged weights" if merged
                                                                  else "adapter", repo))
    started = clock.monotonic()
    attempt, wait = 0, max(0.0, delay)
    while True:
        try:
            _client_timeout()
            url = push_once(output_dir, settings, merged)
            log("pushed to the hub in %d s: %s" % (int(clock.monotonic() - started), url))
            return {"type": "hub_push", "url": url}
        except Exception as err:  # the push never fails the run: every error becomes the report
            failed = classify(err, repo)
        why = _masked(failed.why, settings.hf_token)
        if not failed.retryable or attempt >= retries:
            tried = " (%d attempt%s)" % (attempt + 1, "" if attempt == 0 else "s")
            error = ("hub push to %s failed: %s%s" % (repo, why, tried))[:ERROR_MAX]
            log("%s; the artifacts are stored in trainpod all the same" % error)
            return {"type": "hub_push", "error": error}
        attempt += 1
        log("hub push: %s; retry %d/%d in %g s" % (why, attempt, retries, wait))
        clock.sleep(wait)
        wait = min(MAX_DELAY_S, max(wait * 2, 0.01))


def _masked(text: str, token: str) -> str:
    return text.replace(token, "[secret]") if token else text
