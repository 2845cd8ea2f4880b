"""The trainer child: checks the hyperparameters and the rows, then walks the ML steps, each inside its phase.

Run by the supervisor as `python -m trainpod_agent trainer ARGS` in its own process group. TRAINPOD_ML=simulated
selects the simulated ML work (the RunPod simulator's pods), else the real one. Exit codes: vocabulary.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

from trainpod_agent.ml.reporter import Events
from trainpod_agent.ml.seam import InputError, MLWork, ModelAccessError, OutOfMemory, RunSpec, SimulatedFailure
from trainpod_agent.vocabulary import EXIT_BAD_INPUT, EXIT_MODEL_ACCESS, EXIT_OUT_OF_MEMORY, EXIT_TRAINER_ERROR


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="trainpod_agent trainer", description="trainpod LoRA fine-tuning")
    p.add_argument("--dataset", required=True)
    p.add_argument("--output-dir", required=True)
    p.add_argument("--base-model", default="TinyLlama/TinyLlama-1.1B-Chat-v1.0")
    p.add_argument("--hyperparameters", default="{}")
    return p.parse_args(argv)


def ml_work() -> MLWork:
    if os.environ.get("TRAINPOD_ML") == "simulated":
        from trainpod_agent.ml.simulated import SimulatedML

        return SimulatedML()
    from trainpod_agent.ml.real import RealML

    return RealML()


def run(spec: RunSpec, work: MLWork, events: Events) -> list[str]:
    """The ML steps in order, each inside its phase; the files the save wrote."""
    with events.phase("model_download", unit="bytes") as phase:
        work.fetch_model(spec, phase)
    with events.phase("load") as phase:
        work.load(spec, phase)
    with events.phase("tokenize", total=len(spec.rows), unit="rows") as phase:
        work.prepare_data(spec, phase)
    with events.phase("train", unit="steps") as phase:
        work.train(spec, events, phase)
    with events.phase("save", unit="files") as phase:
        return work.save(spec, phase)


def _error(text: str) -> None:
    print("error: %s" % text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from trainpod_agent.ml.data import read_rows
    from trainpod_agent.ml.hyperparameters import hyperparameters
    from trainpod_agent.ml.preference import check_method

    try:
        hp = hyperparameters(args.hyperparameters)
        rows, fmt = read_rows(args.dataset)
        check_method(hp["method"], fmt)  # DPO on preference rows, SFT on the others (the API's pre-flight too)
    except (InputError, OSError, UnicodeDecodeError) as err:
        _error(str(err))
        return EXIT_BAD_INPUT
    print("dataset: %d rows (%s); base model %s; %s" % (len(rows), fmt, args.base_model, json.dumps(hp)), flush=True)
    spec = RunSpec(args.dataset, args.output_dir, args.base_model, hp, rows, fmt)
    events = Events.from_env()
    try:
        run(spec, ml_work(), events)
    except InputError as err:
        _error(str(err))
        return EXIT_BAD_INPUT
    except ModelAccessError as err:
        _error(str(err))
        return EXIT_MODEL_ACCESS
    except OutOfMemory as err:
        traceback.print_exc()
        _error("out of memory: %s" % err)
        return EXIT_OUT_OF_MEMORY
    except SimulatedFailure as err:
        print(str(err), file=sys.stderr, flush=True)
        return err.exit_code
    except Exception:  # the trainer's own error: its traceback is the run's log
        traceback.print_exc()
        sys.stderr.flush()
        return EXIT_TRAINER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
