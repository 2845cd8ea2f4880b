"""The train step of the real ML work: the eval split, SFTConfig's arguments from the hyperparameters, and the
SFTTrainer run with its callbacks (the progress of callbacks.py, transformers' EarlyStoppingCallback), ending with
the run's facts (train_report.py). Eval, early stopping, packing, padding-free batching, the schedule, the seed
and clipping are trl's and transformers' own (issue 26 items 1 and 2); nothing here loops over batches. The ML
libraries are imported inside the functions, so this module imports without them."""

from __future__ import annotations

import tempfile
from typing import Any

from trainpod_agent.ml import checkpoints
from trainpod_agent.ml.callbacks import training_callbacks
from trainpod_agent.ml.distributed import share_tokens
from trainpod_agent.ml.distributed import training_arguments as distributed_arguments
from trainpod_agent.ml.seam import InputError, Phase, Reporter
from trainpod_agent.ml.train_report import count_training_tokens, note_run
from trainpod_agent.ml.wandb_report import wandb_callbacks, wandb_report_to

DEFAULT_EVAL_SHARE = 0.1  # eval_steps unset: every tenth of the run (transformers reads a float below 1 so)


def split_eval(dataset: Any, fraction: float, seed: int) -> tuple[Any, Any]:
    """(train, eval): a seeded share `fraction` of the examples held out (datasets' train_test_split, at least one
    each side); eval None when fraction is 0."""
    if not fraction:
        return dataset, None
    if len(dataset) < 2:
        raise InputError("eval_fraction needs at least 2 rows with something to train on")
    parts = dataset.train_test_split(test_size=fraction, seed=seed)
    return parts["train"], parts["test"]


def training_arguments(hp: dict[str, Any], output_dir: str, bf16: bool, cuda: bool) -> dict[str, Any]:
    """SFTConfig's arguments. Memory (issue 15, finding 3): activation (gradient) checkpointing, non-reentrant
    (what PEFT needs: the frozen inputs get no grad), bf16 where the GPU has it. `output_dir` holds the trainer's
    checkpoints (ml/checkpoints.py; under early stopping the best adapter so far too), never the run's artifacts."""
    args: dict[str, Any] = dict(
        output_dir=output_dir,
        num_train_epochs=hp["epochs"],
        max_steps=hp["steps"] or -1,
        learning_rate=hp["learning_rate"],
        lr_scheduler_type=hp["lr_scheduler"],
        warmup_steps=hp["warmup_ratio"],  # a float below 1 is a share of the run's steps
        max_grad_norm=hp["max_grad_norm"],
        seed=hp["seed"],
        per_device_train_batch_size=hp["batch_size"],
        gradient_accumulation_steps=hp["gradient_accumulation_steps"],
        max_length=hp["max_seq_length"],
        packing=hp["packing"],  # best-fit decreasing: whole rows into max_length, padding-free
        padding_free=hp["padding_free"],
        activation_checkpointing=True,
        activation_checkpointing_kwargs={"use_reentrant": False},
        # rows are tokenized by prepare_data, labels included; trl prepares them only to pack them
        dataset_kwargs={"skip_prepare_dataset": not hp["packing"]},
        logging_steps=1,
        save_strategy="no",
        report_to=wandb_report_to(),  # W&B when the deployment asks (ml/wandb_report.py), else none
        disable_tqdm=True,
        bf16=bf16,
        use_cpu=not cuda,
    )
    args.update(distributed_arguments(hp))  # several processes: DDP's or FSDP's (ml/distributed.py)
    if hp["padding_free"] and not hp["packing"]:
        args["max_length"] = None  # trl's rule for padding-free without packing: the rows are cut already
    if hp["eval_fraction"]:
        args.update(
            eval_strategy="steps",
            eval_steps=hp["eval_steps"] or DEFAULT_EVAL_SHARE,
            per_device_eval_batch_size=hp["batch_size"],
            prediction_loss_only=True,
        )
    if hp["early_stopping_patience"]:
        # the best adapter so far is kept (its weights only) and loaded back when the run ends
        args.update(
            save_strategy="best",
            save_only_model=True,
            save_total_limit=1,
            load_best_model_at_end=True,
            metric_for_best_model="eval_loss",
            greater_is_better=False,
        )
    # checkpoints to resume from (ml/checkpoints.py): save_steps and save_total_limit; with early stopping "best"
    # stays and the checkpoints are full ones
    args.update(checkpoints.training_arguments(hp, early_stopping=bool(hp["early_stopping_patience"])))
    return args


def lora_config(hp: dict[str, Any]) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=hp["lora_r"],
        lora_alpha=hp["lora_alpha"],
        lora_dropout=hp["lora_dropout"],
        target_modules=hp["target_modules"],
        task_type="CAUSAL_LM",
    )


def run_training(
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
    """Trains (datasets: train, eval or None) and notes the run's facts on the phase; returns the trainer, its model
    the adapter to save (the best one when early stopping ended the run)."""
    from transformers import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    patience = hp["early_stopping_patience"]
    attention = str(getattr(model.config, "_attn_implementation", ""))
    if hp["packing"] and hp["batch_size"] > 1 and "flash" not in attention:
        print(
            f"note: packing flattens batch_size {hp['batch_size']} sequences of max_seq_length into one, attended "
            f"with {attention or 'the default attention'} over all its tokens: batch_size 1 with "
            f"gradient_accumulation_steps {hp['batch_size'] * hp['gradient_accumulation_steps']} trains the same "
            "batches with less attention work (BENCHMARKS.md, packing)",
            flush=True,
        )
    progress, callbacks = training_callbacks(report, phase, hp)
    saver = checkpoints.checkpoint_callback(hp, report, by_steps=bool(patience))
    callbacks += wandb_callbacks(report) + [saver]
    with tempfile.TemporaryDirectory(prefix="trainpod-checkpoints-") as scratch:
        trainer = SFTTrainer(
            model=model,
            args=SFTConfig(**training_arguments(hp, checkpoints.checkpoint_dir(scratch), bf16=bf16, cuda=cuda)),
            train_dataset=datasets[0],
            eval_dataset=datasets[1],
            processing_class=tokenizer,
            peft_config=lora_config(hp),
            callbacks=callbacks,
        )
        trainer.remove_callback(PrinterCallback)  # the progress callback prints one line a step
        tokens = count_training_tokens(trainer)
        resume = checkpoints.resume_from()
        if resume:
            print(f"resuming from {resume}", flush=True)
        output = trainer.train(resume_from_checkpoint=resume)
        share_tokens(trainer, tokens)  # several processes: each rank's line, the tokens summed over the ranks
    note_run(phase, trainer, output, progress.evals, patience, tokens)
    return trainer
