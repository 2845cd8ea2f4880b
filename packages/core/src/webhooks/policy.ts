import type { Config } from "../config";
import type { WebhookUrlPolicy } from "./url-check";

/** The URL rule of a configuration: https in production; private addresses only with WEBHOOK_ALLOW_PRIVATE_URLS. */
export function webhookPolicyFromConfig(config: Pick<Config, "env">): WebhookUrlPolicy {
  return {
    requireHttps: config.env.NODE_ENV === "production",
    allowPrivate: config.env.WEBHOOK_ALLOW_PRIVATE_URLS,
  };
}
