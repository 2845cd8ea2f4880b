import { CliError } from "../exit-codes";
import { limitsBody } from "./spend";

describe("trainpod admin limits: flags to the request body", () => {
  it("sets what is given, `default` clears a field, --reset clears everything first", () => {
    expect(
      limitsBody({ budgetUsd: "500", onExceed: "stop", maxLive: "2", maxGpus: "0", allowImage: ["myorg/*"] }),
    ).toEqual({
      monthlyBudgetUsd: "500",
      onExceed: "stop",
      maxLiveDeployments: 2,
      maxGpus: 0,
      extraImages: ["myorg/*"],
    });
    expect(limitsBody({ budgetUsd: "default", maxLive: "default" })).toEqual({
      monthlyBudgetUsd: null,
      maxLiveDeployments: null,
    });
    expect(limitsBody({ reset: true, maxGpus: "4" })).toEqual({
      monthlyBudgetUsd: null,
      onExceed: null,
      maxLiveDeployments: null,
      maxGpus: 4,
      extraImages: [],
    });
  });

  it.each([
    [{}, /^nothing to set/],
    [{ maxLive: "-1" }, /^--max-live must be a whole number/],
    [{ maxGpus: "1.5" }, /^--max-gpus must be a whole number/],
    [{ onExceed: "kill" }, /^--on-exceed must be block, stop or default$/],
  ])("%j is a usage error", (opts, message) => {
    let caught: unknown;
    try {
      limitsBody(opts);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).message).toMatch(message);
    expect((caught as CliError).exitCode).toBe(2);
  });
});
