"""DPO (issue 26 item 5): preference training with trl's DPOTrainer, the same LoRA (and QLoRA) as SFT. The rows
become trl's conversational preference examples (preference.to_conversation), rendered and tokenized by trl with the
model's chat template; with a peft_config and no ref_model the reference is the base model with the adapter disabled
(trl's default), so no second copy of the model is loaded. Each logged step reports trl's `rewards/margins` (the
chosen answers' implicit reward minus the rejected ones') beside the loss. The ML libraries are imported inside the
functions, so this module imports without them."""

from __future__ import annotations

import tempfile
from typing import Any

from trainpod_agent.ml.callbacks import training_callbacks
from trainpod_agent.ml.preference import to_conversation
from trainpod_agent.ml.real_train import lora_config, training_arguments
from trainpod_agent.ml.seam import InputError, Phase, Reporter
from trainpod_agent.ml.train_report import TokenCount, note_run

DEFAULT_BETA = 0.1  # trl's DPOConfig.beta
SFT_ONLY = ("packing", "padding_free", "dataset_kwargs")  # SFTConfig's arguments that DPOConfig lacks or ignores
MARGIN = "rewards/margins"
ACCURACY = "rewards/accuracies"


def preference_dataset(tokenizer: Any, rows: list[dict[str, Any]], phase: Phase) -> Any:
    """A datasets.Dataset of conversational {"prompt", "chosen", "rejected"}, one per row; InputError when the
    model's chat template cannot render the first (trl would fail later, in the middle of the train phase)."""
    if not rows:
        raise InputError("dataset has no rows")
    from datasets import Dataset

    examples = [to_conversation(r) for r in rows]
    first = examples[0]
    try:
        tokenizer.apply_chat_template(first["prompt"], tokenize=False, add_generation_prompt=True)
        tokenizer.apply_chat_template(first["prompt"] + first["chosen"], tokenize=False)
    except Exception as err:  # jinja's TemplateError, raise_exception in the template, a missing key
        raise InputError(f"the base model's chat template cannot render the dataset's rows: {err}") from None
    phase.advance(len(examples))
    phase.note(rows=len(examples))
    return Dataset.from_list(examples)


def dpo_arguments(hp: dict[str, Any], output_dir: str, bf16: bool, cuda: bool) -> dict[str, Any]:
    """DPOConfig's arguments: SFT's (real_train.training_arguments: the schedule, batch, eval, early stopping,
    checkpointing, max_length) less what only SFT has, plus beta and the tokenizing processes."""
    args = {k: v for k, v in training_arguments(hp, output_dir, bf16=bf16, cuda=cuda).items() if k not in SFT_ONLY}
    args["max_length"] = hp["max_seq_length"]  # prompt + answer, cut at the end (trl's keep_start)
    args["beta"] = hp["dpo_beta"] if hp.get("dpo_beta") is not None else DEFAULT_BETA
    args["dataset_num_proc"] = hp.get("tokenize_num_proc")
    return args


def margins(log_history: list[dict[str, Any]]) -> list[float]:
    """The reward margins of the training steps' logs, in order (the eval logs' are `eval_rewards/margins`)."""
    return [float(log[MARGIN]) for log in log_history if MARGIN in log]


def dpo_facts(log_history: list[dict[str, Any]]) -> dict[str, float]:
    """The train phase's DPO facts: the last step's reward margin and accuracy (the share of pairs whose chosen
    answer the adapter prefers), and the first step's margin to compare."""
    found = margins(log_history)
    out: dict[str, float] = {}
    if found:
        out.update(reward_margin=round(found[-1], 6), reward_margin_first=round(found[0], 6))
    accuracies = [float(log[ACCURACY]) for log in log_history if ACCURACY in log]
    if accuracies:
        out["reward_accuracy"] = round(accuracies[-1], 4)
    return out


def run_dpo(
    model: Any,
    tokenizer: Any,
    datasets: tuple[Any, Any],
    hp: dict[str, Any],
    report: Reporter,
    phase: Phase,
    *,
    bf16: bool,
    cuda: bool,
) -> Any:
    """Trains with DPO (datasets: train, eval or None) and notes the run's facts on the phase; returns the trainer,
    its model the adapter to save."""
    from transformers import PrinterCallback
    from trl import DPOConfig, DPOTrainer

    patience = hp["early_stopping_patience"]
    progress, callbacks = training_callbacks(report, phase, hp)
    with tempfile.TemporaryDirectory(prefix="trainpod-checkpoints-") as scratch:
        trainer = DPOTrainer(
            model=model,
            args=DPOConfig(**dpo_arguments(hp, scratch, bf16=bf16, cuda=cuda)),
            train_dataset=datasets[0],
            eval_dataset=datasets[1],
            processing_class=tokenizer,
            peft_config=lora_config(hp),
            callbacks=callbacks,
        )
        trainer.remove_callback(PrinterCallback)  # the progress callback prints one line a step
        if len(trainer.train_dataset) == 0:
            raise InputError(f"no row has a prompt shorter than max_seq_length {hp['max_seq_length']}")
        output = trainer.train()
    found = note_run(
        phase, trainer, output, progress.evals, patience, TokenCount(), dpo_facts(trainer.state.log_history)
    )
    if "reward_margin" in found:
        print(
            "dpo: reward margin %.4f at the first step, %.4f at the last; the chosen answer preferred in %.0f%% of "
            "the last step's pairs"
            % (found["reward_margin_first"], found["reward_margin"], 100 * found.get("reward_accuracy", 0)),
            flush=True,
        )
    return trainer
