"""Multi-GPU launch (issue 26 item 4, ml/distributed.py): the launch plan, the rank's side, the supervisor's
reading of a failed rank's exit code, and the whole agent with simulated ML on a 2-GPU pod. The real 2-process
training is test_distributed_real.py."""

from __future__ import annotations

import json
import os
import sys

from test_main import run_agent

from trainpod_agent.clock import SystemClock
from trainpod_agent.ml import distributed as dist
from trainpod_agent.ml.hyperparameters import hyperparameters
from trainpod_agent.ml.seam import InputError
from trainpod_agent.supervisor import TrainerProcess, trainer_argv

TRAINER = trainer_argv("/py", "/ds.jsonl", "/out", "org/model", "{}")


def test_the_gpu_count_comes_from_the_pods_env_and_anything_odd_is_one() -> None:
    assert [dist.gpu_count({"TRAINPOD_GPU_COUNT": v}) for v in ("2", "8", "0", "-1", "two", "", " 4 ")] == [
        2, 8, 1, 1, 1, 1, 4]
    assert dist.gpu_count({}) == 1


def test_one_gpu_runs_the_trainer_as_it_is_and_several_run_it_under_torchrun() -> None:
    one = dist.launch_plan(TRAINER, 1, "{}")
    assert (one.processes, one.strategy, one.argv) == (1, "single", TRAINER)
    assert one.lines(simulated=False) == ["launch: one trainer process"]
    four = dist.launch_plan(TRAINER, 4, '{"distributed": "fsdp"}')
    assert four.argv == ["/py", "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc-per-node=4",
                         "--max-restarts=0", "-m", "trainpod_agent", "trainer", *TRAINER[4:]]
    assert four.strategy == "fsdp" and four.command(simulated=False) == four.argv
    assert four.lines(simulated=False) == [
        "launch: torchrun --standalone --nproc-per-node 4 (FSDP: one trainer process per GPU, rank 0 reports)"]
    # the simulated ML makes the same plan, logs it, and runs one process
    assert four.command(simulated=True) == TRAINER
    assert four.lines(simulated=True)[1] == "launch: simulated ML, one process stands for the 4 ranks"
    # the strategy is read leniently (the child refuses a bad one): anything else is DDP
    assert [dist.launch_plan(TRAINER, 2, hp).strategy for hp in ("{}", "not json", "[]", '{"distributed": 1}')] == [
        "ddp"] * 4


def test_distributed_is_ddp_or_fsdp_and_fsdp_does_not_merge() -> None:
    assert hyperparameters("{}")["distributed"] == "ddp"
    assert hyperparameters('{"distributed": "fsdp"}')["distributed"] == "fsdp"
    for bad in ('{"distributed": "zero3"}', '{"distributed": "fsdp", "merge_adapter": true}'):
        try:
            hyperparameters(bad)
        except InputError as err:
            assert "distributed" in str(err)
        else:
            raise AssertionError("accepted %s" % bad)


def test_the_ranks_and_who_reports() -> None:
    assert (dist.rank({}), dist.world_size({}), dist.is_main({}), dist.processes({})) == (0, 1, True, 1)
    rank1 = {"RANK": "1", "WORLD_SIZE": "2"}
    assert (dist.rank(rank1), dist.world_size(rank1), dist.is_main(rank1), dist.processes(rank1)) == (1, 2, False, 2)
    assert dist.processes({"TRAINPOD_PROCESSES": "4"}) == 4  # the simulated ML's one process stands for four


def test_the_global_batch_is_batch_times_accumulation_times_processes() -> None:
    hp = hyperparameters('{"batch_size": 3, "gradient_accumulation_steps": 5}')
    assert dist.batch_facts(hp, {"WORLD_SIZE": "4"}) == {"processes": 4, "global_batch": 60}
    assert dist.batch_line(hp, {"WORLD_SIZE": "4"}) == (
        "batch: 3 rows per device × 5 accumulation steps × 4 process(es) = 60 rows per optimizer step (ddp)")
    assert dist.batch_facts(hp, {}) == {"processes": 1, "global_batch": 15}


def test_the_trainer_arguments_of_ddp_and_fsdp() -> None:
    ddp, fsdp = hyperparameters("{}"), hyperparameters('{"distributed": "fsdp"}')
    assert dist.training_arguments(fsdp, {}) == {}  # one process: neither
    assert dist.training_arguments(ddp, {"WORLD_SIZE": "2"}) == {"ddp_find_unused_parameters": False}
    args = dist.training_arguments(fsdp, {"WORLD_SIZE": "2"})
    assert args["fsdp"] is True and args["activation_checkpointing"] is False
    assert args["fsdp_config"]["activation_checkpointing"] is True
    assert args["fsdp_config"]["state_dict_type"] == "FULL_STATE_DICT"


CHILD = """
import os, sys, json
out = os.fdopen(int(os.environ["TRAINPOD_EVENT_FD"]), "w")
out.write(json.dumps({"type": "progress", "step": 1}) + "\\n")
out.write(json.dumps({"type": "trainer_exit", "code": 3, "rank": 1}) + "\\n")
out.write(json.dumps({"type": "trainer_exit", "code": 1, "rank": 0}) + "\\n")
out.flush()
sys.exit(1)
"""


def test_a_failed_ranks_exit_code_is_the_runs_and_never_sent() -> None:
    events: list[dict[str, object]] = []
    proc = TrainerProcess([sys.executable, "-c", CHILD], dict(os.environ), lambda line: None, events.append)
    assert proc.wait() == 3  # torchrun exits 1; the first rank that failed said 3 (out of memory)
    assert events == [{"type": "progress", "step": 1}]
    assert proc.stop(SystemClock(), grace_s=0) == 3


def test_a_ranks_exit_record_reaches_the_pipe() -> None:
    read_fd, write_fd = os.pipe()
    try:
        dist.report_exit(4, {"TRAINPOD_EVENT_FD": str(write_fd)})
        dist.report_exit(0, {"TRAINPOD_EVENT_FD": str(read_fd)})  # success: nothing written
        assert json.loads(os.read(read_fd, 1000)) == {"type": "trainer_exit", "code": 4, "rank": 0}
    finally:
        os.close(read_fd)


def test_a_two_gpu_pod_with_simulated_ml_logs_the_distributed_launch(api, tmp_path) -> None:
    hp = {"steps": 2, "sim_step_ms": 1, "batch_size": 2, "gradient_accumulation_steps": 3}
    code, output = run_agent(api, tmp_path, hp, {"TRAINPOD_GPU_COUNT": "2"})
    assert code == 0, output
    events = api.events()
    logs = [line for e in events if e["type"] == "log" for line in e["lines"]]
    assert any("launch: torchrun --standalone --nproc-per-node 2 (DDP" in line for line in logs), logs
    assert any("launch: simulated ML, one process stands for the 2 ranks" in line for line in logs)
    assert any("2 rows per device × 3 accumulation steps × 2 process(es) = 12 rows" in line for line in logs)
    [train_end] = [e for e in events if e.get("phase") == "train" and e.get("state") == "ended"]
    assert (train_end["processes"], train_end["global_batch"]) == (2, 12)
    assert [e["type"] for e in events][-1] == "completed"
