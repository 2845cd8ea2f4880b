import { FakeHub, llamaConfig } from "../../../../test/support/fake-hub";
import { CachedHub } from "./hub-cache";
import { HubClient } from "./hub-client";
import { HubError, type HubFailureKind } from "./hub-error";
import { checkModelAccess } from "./model-access";
import { TtlLru } from "./ttl-lru";

// The hub client against a local fake of the hub's HTTP protocol (test/support/fake-hub.ts): what each refusal
// means, the limits, and the cache's token scopes.

const CONFIG = llamaConfig({ hidden: 2048, layers: 16, heads: 32, kvHeads: 8, intermediate: 8192 });
const hub = new FakeHub()
  .addToken("hf_alice")
  .addToken("hf_bob")
  .addRepo({ id: "open/tiny", files: { "config.json": CONFIG }, parameters: { BF16: 1_235_814_400 } })
  .addRepo({ id: "meta/gated", gated: "manual", allowed: ["hf_alice"], files: { "config.json": CONFIG } })
  .addRepo({ id: "acme/private", private: true, allowed: ["hf_alice"], files: { "config.json": CONFIG } });
let client: HubClient;

beforeAll(async () => {
  await hub.listen();
  client = new HubClient({ endpoint: hub.base, timeoutMs: 2_000, maxFileBytes: 64 * 1024 });
});
afterAll(() => hub.close());
beforeEach(() => {
  hub.faults = {};
  hub.requests.length = 0;
});

async function failure(p: Promise<unknown>): Promise<{ kind: HubFailureKind; status: number | null }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof HubError)) throw new Error(`expected a HubError, got ${String(err)}`);
  return { kind: err.kind, status: err.status };
}

describe("HubClient against the hub's protocol", () => {
  it("reads a public model's info (parameters, siblings) and config.json without a token", async () => {
    const info = await client.modelInfo("open/tiny");
    expect(info).toMatchObject({ id: "open/tiny", private: false, gated: false });
    expect(info.safetensors?.total).toBe(1_235_814_400);
    expect(info.siblings).toEqual([{ rfilename: "config.json" }]);
    const file = await client.fetchFile("open/tiny", "main", "config.json");
    expect(JSON.parse(file.toString("utf8")).hidden_size).toBe(2048);
  });

  it("a gated repo: info public, files 401 GatedRepo without a token, 403 with a token not let in", async () => {
    expect((await client.modelInfo("meta/gated")).gated).toBe("manual");
    expect(await failure(client.fetchFile("meta/gated", "main", "config.json"))).toEqual({
      kind: "gated_no_token",
      status: 401,
    });
    expect(await failure(client.fetchFile("meta/gated", "main", "config.json", "hf_bob"))).toEqual({
      kind: "no_access",
      status: 403,
    });
    await expect(client.fetchFile("meta/gated", "main", "config.json", "hf_alice")).resolves.toBeInstanceOf(Buffer);
  });

  it("a private or missing repo: 401 without a token, 404 with one; an unknown token 401 refused", async () => {
    expect(await failure(client.modelInfo("acme/private"))).toEqual({ kind: "not_found", status: 401 });
    expect(await failure(client.modelInfo("acme/private", "hf_bob"))).toEqual({ kind: "not_found", status: 404 });
    expect(await failure(client.modelInfo("nobody/nothing", "hf_bob"))).toEqual({ kind: "not_found", status: 404 });
    expect((await client.modelInfo("acme/private", "hf_alice")).private).toBe(true);
    expect(await failure(client.modelInfo("open/tiny", "hf_forged"))).toEqual({ kind: "bad_token", status: 401 });
  });

  it("a missing file or revision says which", async () => {
    expect((await failure(client.fetchFile("open/tiny", "main", "tokenizer.json"))).kind).toBe("entry_not_found");
    expect((await failure(client.fetchFile("open/tiny", "v9", "config.json"))).kind).toBe("revision_not_found");
  });

  it("never fetches weights, and refuses a file over the size limit", async () => {
    await expect(client.fetchFile("open/tiny", "main", "model.safetensors")).rejects.toThrow(/does not fetch weights/);
    const small = new HubClient({ endpoint: hub.base, timeoutMs: 2_000, maxFileBytes: 100 });
    await expect(small.fetchFile("open/tiny", "main", "config.json")).rejects.toThrow(/over the 100-byte limit/);
    expect(hub.requests.map((r) => r.path)).not.toContain("/open/tiny/resolve/main/model.safetensors");
  });

  it("5xx and timeouts are 'unavailable' (not the user's fault)", async () => {
    hub.faults = { status: 503 };
    expect(await failure(client.modelInfo("open/tiny"))).toEqual({ kind: "unavailable", status: 503 });
    hub.faults = { delayMs: 500 };
    const impatient = new HubClient({ endpoint: hub.base, timeoutMs: 100, maxFileBytes: 1024 });
    const f = await failure(impatient.modelInfo("open/tiny"));
    expect(f).toEqual({ kind: "unavailable", status: null });
  });
});

describe("checkModelAccess", () => {
  it("maps each refusal to a MODEL_ACCESS problem saying what to do", async () => {
    const reason = async (repo: string, token?: string) => {
      const a = await checkModelAccess(client, repo, token);
      return "problem" in a ? a.problem.details?.reason : a.ok ? "OK" : "UNAVAILABLE";
    };
    expect(await reason("meta/gated")).toBe("GATED_NO_TOKEN");
    expect(await reason("meta/gated", "hf_bob")).toBe("TOKEN_LACKS_ACCESS");
    expect(await reason("meta/gated", "hf_alice")).toBe("OK");
    expect(await reason("nobody/nothing")).toBe("NOT_FOUND");
    expect(await reason("open/tiny", "hf_forged")).toBe("TOKEN_REFUSED");
    const gated = await checkModelAccess(client, "meta/gated", "hf_bob");
    expect("problem" in gated && gated.problem.message).toContain(`request access on ${hub.base}/meta/gated`);
    hub.faults = { status: 502 };
    expect(await reason("open/tiny")).toBe("UNAVAILABLE");
  });
});

describe("CachedHub", () => {
  const cached = (nowMs = () => 0) =>
    new CachedHub(client, { ttlMs: 60_000, maxEntries: 100, maxBytes: 1024 * 1024, nowMs });

  it("asks the hub once for a repeated answer, again after the TTL", async () => {
    let now = 0;
    const c = cached(() => now);
    await c.modelInfo("open/tiny");
    await c.modelInfo("open/tiny", "hf_bob");
    await c.fetchFile("open/tiny", "main", "config.json", "hf_bob");
    await c.fetchFile("open/tiny", "main", "config.json");
    expect(hub.requests).toHaveLength(2);
    now = 60_001;
    await c.modelInfo("open/tiny");
    expect(hub.requests).toHaveLength(3);
  });

  it("never lets one token's access to a gated repo answer another's request", async () => {
    const c = cached();
    await c.fetchFile("meta/gated", "main", "config.json", "hf_alice");
    expect((await failure(c.fetchFile("meta/gated", "main", "config.json", "hf_bob"))).kind).toBe("no_access");
    expect((await failure(c.fetchFile("meta/gated", "main", "config.json"))).kind).toBe("gated_no_token");
    await c.modelInfo("acme/private", "hf_alice");
    expect((await failure(c.modelInfo("acme/private", "hf_bob"))).kind).toBe("not_found");
    // alice again: from her scope
    const before = hub.requests.length;
    await c.fetchFile("meta/gated", "main", "config.json", "hf_alice");
    expect(hub.requests.length).toBe(before);
  });

  it("keeps no refusal: access granted later is seen at once", async () => {
    const c = cached();
    expect((await failure(c.fetchFile("meta/gated", "main", "config.json", "hf_bob"))).kind).toBe("no_access");
    hub.setAccess("meta/gated", "hf_bob", true);
    try {
      await expect(c.fetchFile("meta/gated", "main", "config.json", "hf_bob")).resolves.toBeInstanceOf(Buffer);
    } finally {
      hub.setAccess("meta/gated", "hf_bob", false);
    }
  });

  it("keeps a file the repo lacks (EntryNotFound) like an answer, in the asker's scope", async () => {
    const c = cached();
    expect((await failure(c.fetchFile("open/tiny", "main", "chat_template.jinja"))).kind).toBe("entry_not_found");
    expect((await failure(c.fetchFile("open/tiny", "main", "chat_template.jinja"))).kind).toBe("entry_not_found");
    expect(hub.requests).toHaveLength(1);
    expect((await failure(c.fetchFile("meta/gated", "main", "nothing.json", "hf_alice"))).kind).toBe("entry_not_found");
    expect((await failure(c.fetchFile("meta/gated", "main", "nothing.json", "hf_bob"))).kind).toBe("no_access");
  });

  it("two requests at once make one hub request", async () => {
    const c = cached();
    await Promise.all([c.modelInfo("open/tiny"), c.modelInfo("open/tiny")]);
    expect(hub.requests).toHaveLength(1);
  });
});

describe("TtlLru", () => {
  it("drops the least recently used past its byte or entry bound", () => {
    const lru = new TtlLru<string>({ ttlMs: 1000, maxEntries: 3, maxBytes: 100, nowMs: () => 0 });
    lru.set("a", "A", 40);
    lru.set("b", "B", 40);
    lru.get("a");
    lru.set("c", "C", 40);
    expect([lru.get("a"), lru.get("b"), lru.get("c")]).toEqual(["A", undefined, "C"]);
    expect(lru.totalBytes).toBe(80);
    lru.set("big", "X", 101);
    expect(lru.get("big")).toBeUndefined();
    lru.set("d", "D", 1);
    lru.set("e", "E", 1);
    expect(lru.size).toBe(3);
  });
});
