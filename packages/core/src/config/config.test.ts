import { AppError } from "../errors";
import { loadConfig, SIMULATOR_API_KEY } from "./config";

describe("loadConfig", () => {
  it("gives a working local setup on the simulator with no variables set", () => {
    const config = loadConfig({});
    expect(config.runpod.simulated).toBe(true);
    expect(config.runpod.apiUrl).toBe("http://127.0.0.1:8765/v2");
    expect(config.runpod.apiKey).toBe(SIMULATOR_API_KEY);
    expect(config.env.QUEUE_PREFIX).toBe("{trainpod}");
    expect(config.publicUrl).toBe("http://127.0.0.1:8080");
  });

  it("targets RunPod itself when a key is set", () => {
    const config = loadConfig({ RUNPOD_API_KEY: "rpa_abc", PUBLIC_URL: "https://trainpod.example.com/" });
    expect(config.runpod.simulated).toBe(false);
    expect(config.runpod.local).toBe(false);
    // RunPod retired REST v1 on 2026-11-15: API v2 only
    expect(config.runpod.apiUrl).toBe("https://api.runpod.io/v2");
    // a key for a RunPod-compatible API on this machine (the simulator with SIM_API_KEY): pods are local
    expect(loadConfig({ RUNPOD_API_KEY: "k", RUNPOD_API_URL: "http://127.0.0.1:9999/v2" }).runpod.local).toBe(true);
    expect(config.publicUrl).toBe("https://trainpod.example.com");
  });

  it("an empty RUNPOD_API_URL or RUNPOD_API_KEY (docker compose's default) counts as unset: the URL follows the key", () => {
    expect(
      loadConfig({ RUNPOD_API_KEY: "", RUNPOD_API_URL: "", RUNPOD_SIM_URL: "http://runpod-sim:8765/v2" }).runpod,
    ).toMatchObject({ simulated: true, apiUrl: "http://runpod-sim:8765/v2" });
    expect(
      loadConfig({ RUNPOD_API_KEY: "rpa_real", RUNPOD_API_URL: "", RUNPOD_SIM_URL: "http://runpod-sim:8765/v2" })
        .runpod,
    ).toMatchObject({ simulated: false, apiUrl: "https://api.runpod.io/v2" });
  });

  it("rejects bad input with every problem listed at once", () => {
    let caught: unknown;
    try {
      loadConfig({ API_PORT: "99999", DATABASE_URL: "not a url", QUEUE_PREFIX: "trainpod", MONITOR_INTERVAL_MS: "-5" });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    const err = caught as AppError;
    expect(err.code).toBe("CONFIG_INVALID");
    for (const key of ["API_PORT", "DATABASE_URL", "QUEUE_PREFIX", "MONITOR_INTERVAL_MS"]) {
      expect(err.message).toContain(key);
    }
    expect((err.details as { problems: string[] }).problems).toHaveLength(4);
  });

  it("never echoes a secret value in its error", () => {
    expect(() => loadConfig({ RUNPOD_API_KEY: "", RUNPOD_API_URL: "rpa_SECRET_value" })).toThrow(AppError);
    try {
      loadConfig({ RUNPOD_API_URL: "rpa_SECRET_value" });
    } catch (err) {
      expect(String((err as Error).message)).not.toContain("rpa_SECRET_value");
    }
  });
});
