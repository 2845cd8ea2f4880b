import { readFileSync } from "node:fs";
import path from "node:path";
import { resultsEnv, trainerRequirements, WANDB_REQUIREMENT, type ResultTargets } from "./results-env";
import { podLaunch, TRAINER_REQUIREMENTS, type LaunchInput } from "./start-script";

const WANDB_TXT = readFileSync(path.join(__dirname, "..", "..", "trainer", "requirements-wandb.txt"), "utf8");
const none: ResultTargets = { hubRepo: null, hubMerged: false, wandbProject: null, wandbName: null };
const both: ResultTargets = { hubRepo: "alice/tiny-lora", hubMerged: true, wandbProject: "runs", wandbName: "try 1" };

const input: LaunchInput = {
  deploymentId: "5b0c9a52-3f1e-4f7e-9d55-2c1f0e6a7b8c",
  datasetUrl: "https://api.trainpod.test/v1/datasets/download?token=dlt_x",
  datasetSha256: "a".repeat(64),
  runToken: "run_x",
  eventsUrl: "https://api.trainpod.test/v1/runs/x/events",
  artifactsUrl: "https://api.trainpod.test/v1/runs/x/artifacts",
  baseModel: "org/model",
  hyperparameters: {},
  agentUrl: "https://api.trainpod.test/v1/runs/x/agent",
  agentSha256: "b".repeat(64),
};

describe("the results' env (hub push, W&B)", () => {
  it("wandb's pin is requirements-wandb.txt's one line, and the pod installs it only when W&B is asked", () => {
    const pins = WANDB_TXT.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
    expect(pins).toEqual([WANDB_REQUIREMENT]);
    expect(trainerRequirements(TRAINER_REQUIREMENTS, none)).toBe(TRAINER_REQUIREMENTS);
    expect(trainerRequirements(TRAINER_REQUIREMENTS, undefined)).toBe(TRAINER_REQUIREMENTS);
    expect(podLaunch({ ...input, results: both }).env.TRAINPOD_TRAINER_REQUIREMENTS).toBe(
      `${TRAINER_REQUIREMENTS} ${WANDB_REQUIREMENT}`,
    );
  });

  it("passes the repo, merged, the W&B project and name and the hub endpoint; nothing of them when none is asked", () => {
    expect(resultsEnv(both, "http://127.0.0.1:9/")).toEqual({
      TRAINPOD_HUB_REPO: "alice/tiny-lora",
      TRAINPOD_HUB_MERGED: "1",
      HF_ENDPOINT: "http://127.0.0.1:9",
      TRAINPOD_WANDB_PROJECT: "runs",
      TRAINPOD_WANDB_NAME: "try 1",
    });
    expect(resultsEnv({ ...none, hubRepo: "a/b" })).toEqual({ TRAINPOD_HUB_REPO: "a/b", TRAINPOD_HUB_MERGED: "0" });
    // the hub endpoint goes to every pod (model downloads from a mirror too), the repo and W&B only when asked
    expect(resultsEnv(none, "http://127.0.0.1:9")).toEqual({ HF_ENDPOINT: "http://127.0.0.1:9" });
    expect(resultsEnv(undefined)).toEqual({});
    const env = podLaunch({ ...input, results: none }).env;
    expect(Object.keys(env).filter((k) => /HUB|WANDB|HF_/.test(k))).toEqual([]);
    expect(podLaunch({ ...input, results: both, hubEndpoint: "http://hub.test" }).env).toMatchObject({
      TRAINPOD_HUB_REPO: "alice/tiny-lora",
      HF_ENDPOINT: "http://hub.test",
      TRAINPOD_WANDB_PROJECT: "runs",
    });
  });
});
