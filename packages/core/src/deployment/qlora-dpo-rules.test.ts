import { assertHyperparameters, quantizationOf, trainingMethod, weightBytesPerParameter } from "./hyperparameters";
import { METHOD_DATASET_FORMATS, methodFormatProblem } from "./preflight";
import { deploymentRequestSchema } from "./request-schema";

const request = (hyperparameters: Record<string, unknown> = {}) =>
  deploymentRequestSchema.parse({
    datasetId: "3c59dc04-8f2b-4d5e-9a1b-2c3d4e5f6a7b",
    baseModel: "m",
    gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
    hyperparameters,
  });

describe("QLoRA and DPO hyperparameters (issue 26 items 3 and 5)", () => {
  it("name the key they need or clash with, in a 422", () => {
    expect(() => assertHyperparameters({ hyperparameters: { dpo_beta: 0.2 } })).toThrow(
      /hyperparameters\.dpo_beta: needs method dpo/,
    );
    expect(() => assertHyperparameters({ hyperparameters: { method: "dpo", packing: true } })).toThrow(
      /hyperparameters\.packing: is not available with method dpo: trl's DPOTrainer does not pack/,
    );
    expect(() => assertHyperparameters({ hyperparameters: { quantization: "8bit", merge_adapter: true } })).toThrow(
      /hyperparameters\.merge_adapter: is not available with quantization 8bit/,
    );
    expect(() =>
      assertHyperparameters({ hyperparameters: { method: "dpo", dpo_beta: 0.2, quantization: "4bit" } }),
    ).not.toThrow();
  });

  it("default to sft and no quantization; the weights' bytes per parameter follow the quantization", () => {
    expect(trainingMethod(undefined)).toBe("sft");
    expect(trainingMethod({ method: "dpo" })).toBe("dpo");
    expect(quantizationOf({})).toBe("none");
    expect(weightBytesPerParameter({})).toBe(2);
    expect(weightBytesPerParameter({ quantization: "8bit" })).toBe(1);
    expect(weightBytesPerParameter({ quantization: "4bit" })).toBeCloseTo(0.516, 3);
  });
});

describe("pre-flight: the method against the dataset's format", () => {
  it("sft trains on chat and prompt/completion datasets, dpo on preference ones", () => {
    for (const format of METHOD_DATASET_FORMATS.sft) expect(methodFormatProblem(request(), format)).toBeNull();
    for (const format of METHOD_DATASET_FORMATS.dpo)
      expect(methodFormatProblem(request({ method: "dpo" }), format)).toBeNull();
  });

  it("a mismatch is a problem naming the method, the dataset's format and the way out", () => {
    expect(methodFormatProblem(request(), "preference_chat")).toEqual({
      code: "DATASET_METHOD_MISMATCH",
      field: "hyperparameters.method",
      message:
        'method sft trains on chat or prompt/completion rows (formats chat, prompt_completion); dataset 3c59dc04-8f2b-4d5e-9a1b-2c3d4e5f6a7b is preference_chat: choose a chat or prompt_completion dataset, or set hyperparameters.method "dpo"',
    });
    expect(methodFormatProblem(request({ method: "dpo" }), "chat")?.message).toMatch(
      /^method dpo trains on rows \{prompt, chosen, rejected\} \(formats preference, preference_chat\); dataset .* is chat: .*leave method out \(sft\)$/,
    );
  });
});
