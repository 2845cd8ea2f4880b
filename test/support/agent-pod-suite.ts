import { deleteLeftoverPods, expectSequenced, logLines, runToEnd, type AdminPod, type PodOptions } from "./agent-pods";
import { FakeRunApi, type RunBehaviour } from "./fake-run-api";
import { startSimProcess, type SimProcess } from "./sim-process";

export type Launch = (name: string, behaviour: RunBehaviour, opts?: Partial<PodOptions>) => void;

/**
 * A test file's pods: a FakeRunApi and a simulator (no restarts), every pod of `plan` launched at once in beforeAll
 * with `defaults` (each test awaits its own), leftovers deleted after. `outcome(name)` waits for that pod's end and
 * checks what every such test checks: each event valid against the API's own schema, in order, none lost.
 */
export function useAgentPods(defaults: PodOptions, plan: (launch: Launch) => void) {
  const api = new FakeRunApi();
  let sim: SimProcess;
  const ended = new Map<string, Promise<AdminPod>>();

  beforeAll(async () => {
    await api.listen();
    sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "0", SIM_RESTART_POLICY: "never" });
    plan((name, behaviour, opts = {}) => {
      const end = runToEnd(sim, api, name, behaviour, { ...defaults, ...opts });
      end.catch(() => undefined); // reported by the test that awaits it
      ended.set(name, end);
    });
  }, 30_000);

  afterAll(async () => {
    if (sim) await deleteLeftoverPods(sim, api);
    await sim?.stop();
    await api.close();
  }, 30_000);

  return {
    api,
    async outcome(name: string) {
      const pod = await (ended.get(name) ?? Promise.reject(new Error(`${name} not launched`)));
      const r = api.run(name);
      expect(r.rejected).toEqual([]);
      expectSequenced(r);
      const outcomes = r.events.filter((e) => e.type === "completed" || e.type === "failed").map((e) => e.type);
      return { pod, r, lines: logLines(r), failed: r.events.find((e) => e.type === "failed"), outcomes };
    },
  };
}
