"""trainpod's pod side: a supervisor (liveness, phases, transfers, the trainer as a child process) and the trainer."""

__version__ = "0.1.0"
