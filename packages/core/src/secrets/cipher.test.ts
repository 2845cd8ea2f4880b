import { randomBytes } from "node:crypto";
import { AppError } from "../errors";
import { loadConfig } from "../config";
import { openSecret, sealSecret, type SealedSecret } from "./cipher";
import { DEVELOPMENT_KEY_ID, derivedKeyId, parseSecretsKeyring, secretsKeyring } from "./keyring";

const owner = { userId: "0b6f4a52-8d0e-4b8e-9a53-3f1f1f6a2c11", name: "HF_TOKEN" };
const keyA = randomBytes(32);
const keyB = randomBytes(32);
const only = (key: Buffer) => parseSecretsKeyring({ SECRETS_KEY: key.toString("base64"), developmentFallback: false });

function failure(run: () => unknown): string {
  try {
    run();
    return "no error";
  } catch (err) {
    return err instanceof AppError ? `${err.code}: ${err.message}` : `not an AppError: ${String(err)}`;
  }
}

describe("AES-256-GCM sealing of users' secrets", () => {
  it("round-trips a value; each seal has a fresh IV, and the stored bytes never contain the value", () => {
    const keyring = only(keyA);
    const value = "hf_abcdefghijklmnopqrstuvwxyz0123456789";
    const a = sealSecret(keyring, owner, value);
    const b = sealSecret(keyring, owner, value);
    expect(a.keyId).toBe(derivedKeyId(keyA));
    expect(a.iv).toHaveLength(12);
    expect(a.authTag).toHaveLength(16);
    expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).toBe(false);
    expect(Buffer.from(a.ciphertext).toString("latin1")).not.toContain("abcdefghij");
    expect(openSecret(keyring, owner, a)).toBe(value);
    expect(openSecret(keyring, owner, { ...b })).toBe(value);
  });

  it("a tampered ciphertext, tag or IV fails to open, naming the secret and never the value", () => {
    const keyring = only(keyA);
    const sealed = sealSecret(keyring, owner, "value-that-must-stay-hidden");
    const flip = (bytes: Uint8Array) => {
      const copy = Buffer.from(bytes);
      copy[0] = (copy[0] ?? 0) ^ 1;
      return copy;
    };
    for (const tampered of [
      { ...sealed, ciphertext: flip(sealed.ciphertext) },
      { ...sealed, authTag: flip(sealed.authTag) },
      { ...sealed, iv: flip(sealed.iv) },
      { ...sealed, authTag: Buffer.from(sealed.authTag).subarray(0, 8) },
    ] satisfies SealedSecret[]) {
      const msg = failure(() => openSecret(keyring, owner, tampered));
      expect(msg).toMatch(/^INTERNAL: secret HF_TOKEN cannot be decrypted under key id "k[0-9a-f]{12}"/);
      expect(msg).not.toContain("value-that-must-stay-hidden");
    }
  });

  it("a row copied to another user or another name does not open (the owner is bound in)", () => {
    const keyring = only(keyA);
    const sealed = sealSecret(keyring, owner, "v");
    expect(failure(() => openSecret(keyring, { ...owner, name: "WANDB_API_KEY" }, sealed))).toMatch(/^INTERNAL/);
    expect(failure(() => openSecret(keyring, { ...owner, userId: "another" }, sealed))).toMatch(/^INTERNAL/);
  });

  it("a key id the keyring does not hold fails clearly, naming the id; another key under the same id fails too", () => {
    const sealed = sealSecret(only(keyA), owner, "v");
    expect(failure(() => openSecret(only(keyB), owner, sealed))).toBe(
      `CONFIG_INVALID: secret HF_TOKEN is encrypted under key id "${derivedKeyId(keyA)}", which SECRETS_KEY / SECRETS_KEYS does not hold`,
    );
    const sameId = parseSecretsKeyring({ SECRETS_KEYS: `main:${keyB.toString("hex")}`, developmentFallback: false });
    const underMain = sealSecret(
      parseSecretsKeyring({ SECRETS_KEYS: `main:${keyA.toString("hex")}`, developmentFallback: false }),
      owner,
      "v",
    );
    expect(failure(() => openSecret(sameId, owner, underMain))).toMatch(/^INTERNAL: .*under key id "main"/);
  });

  it("rotation: SECRETS_KEYS new:…,old:… seals under the first and opens what the old key sealed", () => {
    const old = parseSecretsKeyring({ SECRETS_KEYS: `old:${keyA.toString("base64")}`, developmentFallback: false });
    const before = sealSecret(old, owner, "before");
    const rotated = parseSecretsKeyring({
      SECRETS_KEYS: `new:${keyB.toString("base64url")}, old:${keyA.toString("base64")}`,
      developmentFallback: false,
    });
    const after = sealSecret(rotated, owner, "after");
    expect(after.keyId).toBe("new");
    expect(openSecret(rotated, owner, before)).toBe("before");
    expect(openSecret(rotated, owner, after)).toBe("after");
    // ids may be left out: derived, so SECRETS_KEY=A's rows open under SECRETS_KEYS=B,A
    const derived = parseSecretsKeyring({
      SECRETS_KEYS: `${keyB.toString("hex")},${keyA.toString("hex")}`,
      developmentFallback: false,
    });
    expect(derived.current?.id).toBe(derivedKeyId(keyB));
    expect(openSecret(derived, owner, sealSecret(only(keyA), owner, "x"))).toBe("x");
  });
});

describe("the secrets keyring from the configuration", () => {
  it("refuses malformed keys, both variables, repeated ids, without echoing the key", () => {
    const bad = "not-a-key-SECRETVALUE";
    for (const env of [
      { SECRETS_KEY: bad },
      { SECRETS_KEY: randomBytes(16).toString("hex") },
      { SECRETS_KEY: keyA.toString("hex"), SECRETS_KEYS: keyB.toString("hex") },
      { SECRETS_KEYS: `a:${keyA.toString("hex")},a:${keyB.toString("hex")}` },
      { SECRETS_KEYS: `bad id!:${keyA.toString("hex")}` },
    ]) {
      const msg = failure(() => parseSecretsKeyring({ ...env, developmentFallback: true }));
      expect(msg).toMatch(/^CONFIG_INVALID: invalid configuration:\n {2}- SECRETS_KEYS?/);
      expect(msg).not.toContain("SECRETVALUE");
      expect(msg).not.toContain(keyA.toString("hex"));
    }
    expect(failure(() => loadConfig({ SECRETS_KEY: bad }))).toMatch(/^CONFIG_INVALID: .*SECRETS_KEY: must be 32/s);
  });

  it("without a key: the fixed development key only in development or test on the simulator, else none", () => {
    expect(secretsKeyring(loadConfig({ NODE_ENV: "test" }))).toMatchObject({
      source: "development",
      current: { id: DEVELOPMENT_KEY_ID },
    });
    expect(secretsKeyring(loadConfig({ NODE_ENV: "production" }))).toMatchObject({
      source: "none",
      current: undefined,
    });
    expect(
      secretsKeyring(loadConfig({ NODE_ENV: "development", RUNPOD_API_KEY: "rpa_x", PUBLIC_URL: "https://t.example" })),
    ).toMatchObject({ source: "none" });
    expect(failure(() => sealSecret(secretsKeyring(loadConfig({ NODE_ENV: "production" })), owner, "v"))).toMatch(
      /^CONFIG_INVALID: secrets are disabled on this server: set SECRETS_KEY/,
    );
    const configured = secretsKeyring(loadConfig({ NODE_ENV: "production", SECRETS_KEY: keyA.toString("base64") }));
    expect(configured).toMatchObject({ source: "configured", current: { id: derivedKeyId(keyA) } });
  });
});
