import { readFileSync } from "node:fs";
import path from "node:path";
import { AppError } from "../errors";
import { assertHyperparameters, hyperparametersSchema } from "./hyperparameters";

// the cases the pod agent decides alike (pod-agent/tests/test_hyperparameters.py reads the same file)
const FIXTURES = path.join(__dirname, "..", "..", "..", "..", "pod-agent", "tests", "fixtures");
const cases = JSON.parse(readFileSync(path.join(FIXTURES, "hyperparameters.json"), "utf8")) as {
  ok: object[];
  bad: object[];
};

describe("hyperparametersSchema (issue 15, finding 4)", () => {
  it.each(cases.ok.map((c) => [JSON.stringify(c), c]))("accepts %s", (_name, c) => {
    expect(hyperparametersSchema.safeParse(c).success).toBe(true);
  });
  it.each(cases.bad.map((c) => [JSON.stringify(c), c]))("refuses %s", (_name, c) => {
    expect(hyperparametersSchema.safeParse(c).success).toBe(false);
  });
  it("has every key in the shared cases (the agent's test checks its table the same way)", () => {
    const seen = new Set(cases.ok.flatMap((c) => Object.keys(c)));
    expect([...seen].sort()).toEqual(Object.keys(hyperparametersSchema.shape).sort());
  });
  it("is a 422 naming the bad key, before anything else is checked", () => {
    let err: unknown;
    try {
      assertHyperparameters({ hyperparameters: { epochs: "3", lr: 1 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("UNPROCESSABLE");
    expect((err as AppError).message).toMatch(/hyperparameters\.epochs: .*number/);
    expect((err as AppError).message).toMatch(/lr/);
    expect(() => assertHyperparameters({})).not.toThrow();
  });
  it("refuses eval_steps and early_stopping_patience without an eval set, naming the key (issue 26)", () => {
    expect(() => assertHyperparameters({ hyperparameters: { early_stopping_patience: 3 } })).toThrow(
      /hyperparameters\.early_stopping_patience: needs an eval set: eval_fraction above 0/,
    );
    expect(() => assertHyperparameters({ hyperparameters: { eval_fraction: 0.1, eval_steps: 5 } })).not.toThrow();
    expect(() => assertHyperparameters({ hyperparameters: { lr_scheduler: "cosine_with_min_lr" } })).toThrow(
      /hyperparameters\.lr_scheduler/,
    );
  });
});
