import { z } from "zod";
import { BadRequestError, BadResponseError, NotFoundError } from "./errors";
import type { HttpAnswer, HttpRequest, RunPodHttp } from "./http";

/**
 * RunPod REST v2's network volumes (`/v2/network-volumes`, openapi-v2.json: NetworkVolume, CreateNetworkVolumeRequest,
 * ListNetworkVolumesResponse): persistent network storage in one data centre, billed per GB-month until deleted. A pod
 * mounts at most one (`mounts.network`), never with `mounts.persistent`, in the volume's data centre, on Secure Cloud.
 */

export const VOLUME_TYPES = ["STANDARD", "HIGH_PERFORMANCE"] as const;

export const NetworkVolumeSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  size: z.number().int().nonnegative(),
  dataCenter: z.string().min(1),
  type: z.string().nullish(),
});
export type NetworkVolume = z.infer<typeof NetworkVolumeSchema>;
const NetworkVolumeListSchema = z.looseObject({ networkVolumes: z.array(NetworkVolumeSchema) });

export const CreateNetworkVolumeRequestSchema = z.strictObject({
  name: z.string().min(1),
  /** GB, 10 to 4096; it may only grow later */
  size: z.number().int().min(10).max(4096),
  dataCenter: z.string().min(1),
  type: z.enum(VOLUME_TYPES).optional(),
});
export type CreateNetworkVolumeRequest = z.infer<typeof CreateNetworkVolumeRequestSchema>;

/** What trainpod does with network volumes (the operators' cache volumes: cache-volumes/). */
export interface NetworkVolumeClient {
  /** GET /v2/network-volumes: every volume of the account */
  listNetworkVolumes(): Promise<NetworkVolume[]>;
  /** POST /v2/network-volumes: a billable volume (not retried after an ambiguous failure: list, then create again) */
  createNetworkVolume(input: CreateNetworkVolumeRequest): Promise<NetworkVolume>;
  /** GET /v2/network-volumes/{id}; null when RunPod answers 404 */
  getNetworkVolume(id: string): Promise<NetworkVolume | null>;
  /** DELETE /v2/network-volumes/{id}: its storage and billing end; an unknown volume (404) counts as done */
  deleteNetworkVolume(id: string): Promise<{ alreadyGone: boolean }>;
}

const LIST = "/network-volumes";
const ONE = "/network-volumes/{id}";

function volumePath(id: string): string {
  if (id.trim() === "") throw new BadRequestError("a network volume id must not be empty");
  return `${LIST}/${encodeURIComponent(id)}`;
}

function parse<S extends z.ZodType>(answer: HttpAnswer, schema: S, req: HttpRequest): z.output<S> {
  const where = `RunPod ${req.method} ${req.endpoint} answered ${answer.status}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.bodyText);
  } catch {
    throw new BadResponseError(`${where} with a body that is not JSON`);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new BadResponseError(`${where} with an unexpected body: ${issues.join("; ")}`, { details: { issues } });
}

/** The volume calls over the REST client's own HTTP layer (its retries, timeouts and the account's rate budget). */
export class RunPodNetworkVolumes implements NetworkVolumeClient {
  constructor(private readonly http: RunPodHttp) {}

  async listNetworkVolumes(): Promise<NetworkVolume[]> {
    const req: HttpRequest = { method: "GET", endpoint: LIST, path: LIST, retryAmbiguous: true };
    return parse(await this.http.send(req), NetworkVolumeListSchema, req).networkVolumes;
  }

  async createNetworkVolume(input: CreateNetworkVolumeRequest): Promise<NetworkVolume> {
    const checked = CreateNetworkVolumeRequestSchema.safeParse(input);
    if (!checked.success)
      throw new BadRequestError(
        `network volume input is invalid: ${checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    const req: HttpRequest = { method: "POST", endpoint: LIST, path: LIST, body: checked.data, retryAmbiguous: false };
    return parse(await this.http.send(req), NetworkVolumeSchema, req);
  }

  async getNetworkVolume(id: string): Promise<NetworkVolume | null> {
    const req: HttpRequest = { method: "GET", endpoint: ONE, path: volumePath(id), retryAmbiguous: true };
    try {
      return parse(await this.http.send(req), NetworkVolumeSchema, req);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  async deleteNetworkVolume(id: string): Promise<{ alreadyGone: boolean }> {
    try {
      await this.http.send({ method: "DELETE", endpoint: ONE, path: volumePath(id), retryAmbiguous: true });
      return { alreadyGone: false };
    } catch (err) {
      if (err instanceof NotFoundError) return { alreadyGone: true };
      throw err;
    }
  }
}
