import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { checkedLookup, isBlockedAddress, parseWebhookUrl, type WebhookUrlPolicy } from "./url-check";

/** What one POST to an endpoint came to: its status, or the error that kept it from answering. */
export type PostResult = { statusCode: number; error?: undefined } | { statusCode?: undefined; error: string };

/**
 * POSTs a webhook body: no redirect followed, the connection only to an address just checked (checkedLookup; an IP
 * literal checked here), the whole exchange within `timeoutMs`, the answer's body read and dropped (64 KiB at most).
 */
export function postWebhook(
  urlText: string,
  body: string,
  headers: Record<string, string>,
  opts: { policy: WebhookUrlPolicy; timeoutMs: number },
): Promise<PostResult> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = parseWebhookUrl(urlText, opts.policy);
    } catch (err) {
      return resolve({ error: (err as Error).message });
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    if (isIP(host) && !opts.policy.allowPrivate && isBlockedAddress(host))
      return resolve({ error: `${host} is a refused address` });
    const client = url.protocol === "https:" ? https : http;
    let settled = false;
    const done = (r: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = client.request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        lookup: checkedLookup(opts.policy),
        agent: false,
      },
      (res) => {
        let read = 0;
        res.on("data", (c: Buffer) => {
          read += c.length;
          if (read > 64 * 1024) res.destroy();
        });
        res.on("close", () => done({ statusCode: res.statusCode ?? 0 }));
        res.on("error", () => done({ statusCode: res.statusCode ?? 0 }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on("error", (err) => done({ error: err.message.slice(0, 500) }));
    req.end(body);
  });
}
