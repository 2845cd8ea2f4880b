"""The closed lists the agent and the API share: phases, failure causes, and the trainer's exit codes."""

from __future__ import annotations

# Every step of a run is one of these phases, in this order (a run may skip some: no merge, no install).
PHASES = (
    "setup",  # system info, the agent's own start
    "install",  # the pinned packages (the bootstrap; reported by the agent when it starts)
    "dataset_download",
    "model_download",
    "load",
    "tokenize",
    "train",
    "save",
    "upload",
)

# Why a run failed, split by whose fault it is. The API keeps the user's failures apart from the infrastructure's.
USER_CAUSES = ("bad_input", "out_of_memory", "trainer_error")
INFRA_CAUSES = ("dataset_download", "model_access", "upload", "api_unreachable", "pod")
SETUP_CAUSES = ("setup",)
CAUSES = USER_CAUSES + INFRA_CAUSES + SETUP_CAUSES

# The trainer child's exit codes (ml/child.py) and what they mean.
EXIT_OK = 0
EXIT_TRAINER_ERROR = 1  # an exception in training: the trainer's or the user's config
EXIT_BAD_INPUT = 2  # hyperparameters or dataset rows refused before any model was loaded
EXIT_OUT_OF_MEMORY = 3  # CUDA (or host) out of memory
EXIT_MODEL_ACCESS = 4  # the base model could not be fetched (not found, gated, no token, hub down)

_EXIT_CAUSES = {
    EXIT_BAD_INPUT: "bad_input",
    EXIT_OUT_OF_MEMORY: "out_of_memory",
    EXIT_MODEL_ACCESS: "model_access",
}


def cause_of_exit(code: int) -> str:
    """The failure cause of a trainer that exited with `code` (non-zero); a signal is the pod's, not the user's."""
    if code < 0 or code >= 128:
        return "pod"
    return _EXIT_CAUSES.get(code, "trainer_error")

