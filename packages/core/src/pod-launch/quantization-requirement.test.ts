import { readFileSync } from "node:fs";
import path from "node:path";
import { QUANTIZATION_REQUIREMENT, withQuantization } from "./quantization-requirement";
import { TRAINER_REQUIREMENTS, podLaunch, type LaunchInput } from "./start-script";

const TXT = readFileSync(path.join(__dirname, "..", "..", "trainer", "requirements-quantization.txt"), "utf8");

const input = (hyperparameters: Record<string, unknown>): LaunchInput => ({
  deploymentId: "3c59dc04-8f2b-4d5e-9a1b-2c3d4e5f6a7b",
  datasetUrl: "http://127.0.0.1:1/v1/datasets/download?token=tp_ds_x",
  datasetSha256: "0".repeat(64),
  runToken: "tp_run_x",
  eventsUrl: "http://127.0.0.1:1/v1/runs/x/events",
  artifactsUrl: "http://127.0.0.1:1/v1/runs/x/artifacts",
  baseModel: "m",
  hyperparameters,
  agentUrl: "http://127.0.0.1:1/v1/runs/x/agent",
  agentSha256: "0".repeat(64),
});

describe("bitsandbytes on the pod (QLoRA, issue 26 item 3)", () => {
  it("the pin is requirements-quantization.txt's one line", () => {
    const pins = TXT.split("\n")
      .map((l) => l.replace(/#.*/, "").trim())
      .filter((l) => l !== "");
    expect(pins).toEqual([QUANTIZATION_REQUIREMENT]);
    expect(QUANTIZATION_REQUIREMENT).toMatch(/^bitsandbytes==[0-9][0-9.]*$/);
  });

  it("is installed only when the hyperparameters ask for 4bit or 8bit", () => {
    expect(withQuantization("a==1", { quantization: "4bit" })).toBe(`a==1 ${QUANTIZATION_REQUIREMENT}`);
    expect(withQuantization("a==1", { quantization: "8bit" })).toBe(`a==1 ${QUANTIZATION_REQUIREMENT}`);
    expect(withQuantization("a==1", { quantization: "none" })).toBe("a==1");
    expect(withQuantization("a==1", {})).toBe("a==1");
    expect(withQuantization("a==1", undefined)).toBe("a==1");
  });

  it("reaches the start script's pins through the pod's env", () => {
    const pins = (hp: Record<string, unknown>) => podLaunch(input(hp)).env.TRAINPOD_TRAINER_REQUIREMENTS;
    expect(pins({ quantization: "4bit" })).toBe(`${TRAINER_REQUIREMENTS} ${QUANTIZATION_REQUIREMENT}`);
    expect(pins({ steps: 3 })).toBe(TRAINER_REQUIREMENTS);
  });
});
