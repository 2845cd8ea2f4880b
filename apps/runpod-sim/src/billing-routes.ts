/**
 * GET /v2/billing/pods (listPodBilling): records per pod per bucket from the pods' own meters,
 * the window snapped to bucket boundaries (startTime down, endTime up), usage of the last
 * `billingLagMs` not reported yet. Malformed parameters answer 422, rule breaks (lastN with
 * startTime/endTime, an empty window) 400.
 */
import { BUCKET_SIZES, addBuckets, bucketStart, podBilling, type BucketSize } from "./billing";
import { sendError, sendJson } from "./http-util";
import type { RouteCall, V2Route } from "./routes";

const DAY_MS = 86_400_000;

function listPodBilling({ res, query, sim }: RouteCall): void {
  const now = Date.now();
  const errors: string[] = [];
  const bucketSize = (query.get("bucketSize") ?? "day") as BucketSize;
  if (!BUCKET_SIZES.includes(bucketSize)) errors.push(`bucketSize: must be one of ${BUCKET_SIZES.join(", ")}`);
  const time = (name: string): number | undefined => {
    const raw = query.get(name);
    if (raw === null) return undefined;
    const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(raw)
      ? Date.parse(raw)
      : Number.NaN;
    if (Number.isNaN(t)) errors.push(`${name}: must be an RFC 3339 date-time`);
    return t;
  };
  const start = time("startTime");
  const end = time("endTime");
  const lastNRaw = query.get("lastN");
  if (lastNRaw !== null && !/^[1-9]\d*$/.test(lastNRaw)) errors.push("lastN: must be an integer >= 1");
  if (errors.length > 0) return sendError(res, 422, "Request validation failed.", {}, errors);
  if (lastNRaw !== null && (start !== undefined || end !== undefined))
    return sendError(res, 400, "lastN is mutually exclusive with startTime/endTime");
  let startTime: number;
  let endTime: number;
  if (lastNRaw !== null) {
    const current = bucketStart(now, bucketSize);
    startTime = addBuckets(current, bucketSize, 1 - Number(lastNRaw));
    endTime = addBuckets(current, bucketSize);
  } else {
    const rawEnd = end ?? now;
    endTime =
      bucketStart(rawEnd, bucketSize) === rawEnd ? rawEnd : addBuckets(bucketStart(rawEnd, bucketSize), bucketSize);
    startTime = bucketStart(start ?? now - 30 * DAY_MS, bucketSize);
  }
  if (startTime >= endTime) return sendError(res, 400, "startTime must be before endTime");
  const podId = query.get("podId") ?? undefined;
  const pods = sim.pods.store.all().map((p) => ({ id: p.id, meter: p.meter }));
  sendJson(res, 200, podBilling(pods, { bucketSize, startTime, endTime, podId }, now - sim.config().billingLagMs));
}

export const BILLING_ROUTES: readonly V2Route[] = [
  { method: "GET", template: "/v2/billing/pods", handler: listPodBilling },
];
