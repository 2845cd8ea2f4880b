import { createHmac } from "node:crypto";
import { isBlockedAddress, parseWebhookUrl } from "./url-check";
import { newSigningSecret, webhookEventId, webhookHeaders, webhookSignature } from "./signing";

describe("the SSRF rule", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:7f00:1",
    "64:ff9b::a00:1",
    "not-an-ip",
  ])("%s is refused", (ip) => expect(isBlockedAddress(ip)).toBe(true));

  it.each(["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])("%s is allowed", (ip) =>
    expect(isBlockedAddress(ip)).toBe(false),
  );

  it("https in production, no credentials, a URL at all", () => {
    const prod = { requireHttps: true, allowPrivate: false };
    expect(() => parseWebhookUrl("http://example.com/h", prod)).toThrow(/https/);
    expect(parseWebhookUrl("https://example.com/h", prod).host).toBe("example.com");
    expect(parseWebhookUrl("http://example.com/h", { ...prod, requireHttps: false }).protocol).toBe("http:");
    expect(() => parseWebhookUrl("https://u:p@example.com/", prod)).toThrow(/credentials/);
    expect(() => parseWebhookUrl("ftp://example.com/", { ...prod, requireHttps: false })).toThrow(/http or https/);
    expect(() => parseWebhookUrl("nope", prod)).toThrow(/not a valid URL/);
  });
});

describe("Standard Webhooks signatures", () => {
  it("v1,base64(HMAC-SHA256(the secret's bytes, id.timestamp.body)), a fresh secret each time", () => {
    const secret = newSigningSecret();
    expect(secret).not.toBe(newSigningSecret());
    const key = Buffer.from(secret.slice("whsec_".length), "base64");
    expect(key).toHaveLength(32);
    const expected = createHmac("sha256", key).update("evt_1.1700000000.{}").digest("base64");
    expect(webhookSignature(secret, "evt_1", 1_700_000_000, "{}")).toBe(`v1,${expected}`);
    expect(webhookHeaders(secret, "evt_1", 1_700_000_000, "{}")).toMatchObject({
      "webhook-id": "evt_1",
      "webhook-timestamp": "1700000000",
      "webhook-signature": `v1,${expected}`,
    });
  });

  it("an event's id is the same for every endpoint and attempt, another for another outcome", () => {
    const id = webhookEventId("d1", "fine_tuning.job.succeeded");
    expect(id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(webhookEventId("d1", "fine_tuning.job.succeeded")).toBe(id);
    expect(webhookEventId("d1", "fine_tuning.job.failed")).not.toBe(id);
  });
});
