"""`python agent.pyz` or `python -m trainpod_agent`: the supervisor; `... trainer ARGS`: the trainer child."""

import sys


def _entry() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "trainer":
        from trainpod_agent.ml.child import main as child_main
        from trainpod_agent.ml.distributed import as_rank

        return as_rank(child_main, sys.argv[2:])  # one process, or one rank of several under torchrun
    from trainpod_agent.main import main

    return main()


if __name__ == "__main__":
    sys.exit(_entry())
