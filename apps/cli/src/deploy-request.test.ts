import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig, saveConfig } from "./config";
import { buildDeployRequest, parseHyperparameter } from "./deploy-request";
import { CliError, EXIT } from "./exit-codes";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-cli-unit-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("buildDeployRequest", () => {
  it("reads YAML or JSON and lets flags override fields; the expected runtime goes to the estimate only", () => {
    const file = path.join(dir, "run.yaml");
    writeFileSync(
      file,
      "datasetId: d1\nbaseModel: m\ngpuTypeIds: [NVIDIA A40]\nhyperparameters: {epochs: 1}\nmaxCostUsd: '3'\nexpectedRuntimeMinutes: 30\n",
    );
    const { request, expectedRuntimeMinutes } = buildDeployRequest({
      file,
      gpu: ["NVIDIA L4", "NVIDIA A40"],
      hp: ["lr=0.0002", "packing=true", "note=hi=there"],
      maxRuntime: "90",
      cloud: "community",
    });
    expect(request).toEqual({
      datasetId: "d1",
      baseModel: "m",
      gpuTypeIds: ["NVIDIA L4", "NVIDIA A40"],
      hyperparameters: { epochs: 1, lr: 0.0002, packing: true, note: "hi=there" },
      maxCostUsd: "3",
      maxRuntimeMinutes: 90,
      cloudType: "COMMUNITY",
    });
    expect(expectedRuntimeMinutes).toBe(30);
    const json = path.join(dir, "run.json");
    writeFileSync(json, JSON.stringify({ datasetId: "d2", baseModel: "m", gpuTypeIds: ["NVIDIA A40"] }));
    expect(buildDeployRequest({ file: json }).request.datasetId).toBe("d2");
  });

  it("bad usage is exit code 2", () => {
    const usage = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof CliError ? err.exitCode : -1;
      }
      return 0;
    };
    expect(usage(() => buildDeployRequest({ model: "m", gpu: ["x"] }))).toBe(EXIT.USAGE);
    expect(usage(() => buildDeployRequest({ dataset: "d", model: "m", gpu: ["x"], gpuCount: "two" }))).toBe(EXIT.USAGE);
    expect(usage(() => buildDeployRequest({ file: path.join(dir, "missing.yaml") }))).toBe(EXIT.USAGE);
    expect(usage(() => parseHyperparameter("novalue"))).toBe(EXIT.USAGE);
  });
});

describe("CLI config", () => {
  it("login's file is 0600 and the environment overrides it", () => {
    const env = { TRAINPOD_CONFIG_DIR: path.join(dir, "cfg") };
    const file = saveConfig({ apiUrl: "http://api.example:8080", apiKey: "tp_live_a" }, env);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadConfig(env)).toEqual({ apiUrl: "http://api.example:8080", apiKey: "tp_live_a" });
    expect(loadConfig({ ...env, TRAINPOD_API_KEY: "tp_live_b", TRAINPOD_API_URL: "http://other/" })).toEqual({
      apiUrl: "http://other",
      apiKey: "tp_live_b",
    });
    expect(() => loadConfig({ TRAINPOD_CONFIG_DIR: path.join(dir, "none") })).toThrow(/not logged in/);
  });
});
