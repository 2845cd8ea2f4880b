import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { lookup as dnsLookupCallback } from "node:dns";
import { AppError } from "../errors";

/**
 * Where a webhook may be POSTed (no server-side request forgery): https in production; never an address that is
 * private, loopback, link-local, carrier-grade NAT, multicast, reserved or unspecified (IPv4 and IPv6, IPv4-mapped
 * and NAT64 forms included) unless allowed; every address a name resolves to is checked, at registration and again
 * at each delivery, whose connection goes to an address just checked (a name that changes its answer gains nothing).
 */
export interface WebhookUrlPolicy {
  requireHttps: boolean;
  allowPrivate: boolean;
}

const blocked = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const)
  blocked.addSubnet(net, bits, "ipv6");

/** Is this IP address one a webhook must never reach (without WEBHOOK_ALLOW_PRIVATE_URLS)? */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return blocked.check(address, "ipv4");
  // IPv4-mapped (::ffff:a.b.c.d, ::ffff:0a00:0001): its IPv4 address decides (a BlockList matches IPv4 rules only so)
  const mapped = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (mapped) {
    const v4 =
      mapped[1] ??
      [mapped[2], mapped[3]].flatMap((h) => [parseInt(h ?? "0", 16) >> 8, parseInt(h ?? "0", 16) & 255]).join(".");
    return blocked.check(v4, "ipv4");
  }
  return blocked.check(address, "ipv6");
}

function refused(message: string): AppError {
  return new AppError("VALIDATION_FAILED", message, { details: { param: "url", code: "invalid_url" } });
}

/** The URL parsed, its scheme and form checked (no address yet). */
export function parseWebhookUrl(text: string, policy: WebhookUrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refused("url is not a valid URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && !policy.requireHttps))
    throw refused(policy.requireHttps ? "url must be https" : "url must be http or https");
  if (url.username !== "" || url.password !== "") throw refused("url must not carry credentials");
  if (text.length > 2000) throw refused("url is longer than 2000 characters");
  return url;
}

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

/** Every address the URL's host is, checked; VALIDATION_FAILED naming the first refused one. */
export async function checkWebhookUrl(text: string, policy: WebhookUrlPolicy): Promise<URL> {
  const url = parseWebhookUrl(text, policy);
  if (policy.allowPrivate) return url;
  const host = hostOf(url);
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    throw refused(`url's host ${host} does not resolve`);
  }
  const bad = addresses.find(isBlockedAddress);
  if (bad !== undefined || addresses.length === 0)
    throw refused(`url's host ${host} resolves to ${bad ?? "nothing"}, a private, loopback or reserved address`);
  return url;
}

/**
 * A `lookup` for http(s).request that resolves every address, refuses the connection if any is blocked, and answers
 * the checked ones: the socket connects to what was checked.
 */
export function checkedLookup(policy: WebhookUrlPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookupCallback(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const list = addresses as unknown as Array<{ address: string; family: number }>;
      const bad = policy.allowPrivate ? undefined : list.find((a) => isBlockedAddress(a.address));
      if (bad !== undefined || list.length === 0) {
        const e = Object.assign(new Error(`${hostname} resolves to ${bad?.address ?? "nothing"}, a refused address`), {
          code: "EWEBHOOKADDRESS",
        });
        return callback(e, "", 0);
      }
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      const first = list[0] as { address: string; family: number };
      callback(null, first.address, first.family);
    });
  };
}
