"""`python agent.pyz` or `python -m trainpod_agent`: the supervisor; `... trainer ARGS`: the trainer child."""

import sys


def _entry() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "trainer":
        from trainpod_agent.ml.child import main as child_main

        return child_main(sys.argv[2:])
    from trainpod_agent.main import main

    return main()


if __name__ == "__main__":
    sys.exit(_entry())
