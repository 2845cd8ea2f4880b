import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { artifactDeclarationSchema } from "../../packages/core/src/artifacts/reserve-artifact";
import { runEventSchema } from "../../packages/core/src/lifecycle/record-run-event";
import { agentBundle } from "../../packages/core/src/pod-launch/agent-bundle";

// The trainpod API's side of a pod's run, as a small HTTP server: the agent's zipapp (GET /runs/:name/agent, to the
// run token, as the API serves it), the dataset's token URL, run events (checked with the API's own schema and body
// limit) and artifact uploads (declared, then PUT through the API). agent-pods.ts runs the real bootstrap and the
// real agent (start.sh, pod-agent/) against it in the RunPod simulator's pods, only the ML simulated.

/** One format per file: the trainer refuses a file that mixes prompt/completion and chat. */
export const DATASET = ['{"prompt":"2+2?","completion":"4"}', '{"prompt":"3+3?","completion":"6"}', ""].join("\n");
export const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
/** A line of the shipped log: a UTC timestamp, then the text. */
export const ISO_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z /;

/** How the dataset's token URL answers one try: the bytes, 500, the API's 401 TOKEN_USED, or half then a reset. */
export type DatasetAnswer = "ok" | "500" | "token-used" | "broken";
export interface RunBehaviour {
  /** the answer to the nth GET of the dataset (1-based); always the bytes when absent */
  dataset?: (attempt: number) => DatasetAnswer;
  /** the dataset's bytes (DATASET when absent) */
  data?: string;
  /** the artifact declaration answered 403 FORBIDDEN */
  uploadForbidden?: boolean;
}
export interface RunEvent {
  type: string;
  seq?: number;
  phase?: string;
  state?: string;
  ok?: boolean;
  step?: number;
  totalSteps?: number;
  exitCode?: number;
  cause?: string;
  message?: string;
  lines?: string[];
}
export interface FakeRun {
  name: string;
  behaviour: RunBehaviour;
  data: string;
  datasetToken: string;
  runToken: string;
  datasetRequests: number;
  uploadRequests: number;
  events: RunEvent[];
  /** event bodies the trainpod API would refuse: no bearer token, over 256 KB, not JSON, not a run event */
  rejected: string[];
  artifacts: Map<string, { auth: string | undefined; sha256: string }>;
  declared: Map<string, { path: string; sizeBytes: number; sha256: string }>;
  podId?: string;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const apiError = (res: ServerResponse, status: number, code: string, message: string) =>
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { code, message } }));

export class FakeRunApi {
  readonly runs = new Map<string, FakeRun>();
  base = "";
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }

  add(name: string, behaviour: RunBehaviour = {}): FakeRun {
    const salt = Math.random().toString(36).slice(2);
    const r: FakeRun = {
      name,
      behaviour,
      data: behaviour.data ?? DATASET,
      datasetToken: `tp_ds_${name}_${salt}`,
      runToken: `tp_run_${name}_${salt}`,
      datasetRequests: 0,
      uploadRequests: 0,
      events: [],
      rejected: [],
      artifacts: new Map(),
      declared: new Map(),
    };
    this.runs.set(name, r);
    return r;
  }

  run(name: string): FakeRun {
    const r = this.runs.get(name);
    if (!r) throw new Error(`no run ${name}`);
    return r;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const [, kind, name, what, ...rest] = url.pathname.split("/");
    const data = await readBody(req);
    const r = this.runs.get(name ?? "");
    if (!r) return void res.writeHead(404).end();
    if (req.method === "GET" && kind === "datasets") return this.dataset(r, url, res);
    const authorized = req.headers.authorization === `Bearer ${r.runToken}`;
    if (req.method === "GET" && kind === "runs" && what === "agent") {
      if (!authorized) return void res.writeHead(401).end();
      const agent = agentBundle();
      res.writeHead(200, { "content-type": "application/zip", "x-content-sha256": agent.sha256 }).end(agent.bytes);
      return;
    }
    if (req.method === "POST" && kind === "runs" && what === "events") {
      try {
        if (!authorized) throw new Error(`bad authorization ${req.headers.authorization}`);
        if (data.length > 256 * 1024) throw new Error(`${data.length} bytes, over express.json's 256kb limit`);
        const event = JSON.parse(data.toString("utf8")) as RunEvent;
        const valid = runEventSchema.safeParse(event); // the API's own event schema and limits
        if (!valid.success) throw new Error(valid.error.message.slice(0, 500));
        r.events.push(event);
        return void res.writeHead(204).end();
      } catch (err) {
        r.rejected.push(`${(err as Error).message}: ${data.toString("utf8").slice(0, 300)}`);
        return void res.writeHead(400).end();
      }
    }
    if (req.method === "POST" && kind === "runs" && what === "artifacts" && rest.length === 0) {
      // the declaration (path, size, sha256), checked with the API's own schema; this API takes the bytes itself
      r.uploadRequests++;
      if (r.behaviour.uploadForbidden) return void apiError(res, 403, "FORBIDDEN", "run token revoked");
      const declared = artifactDeclarationSchema.safeParse(JSON.parse(data.toString("utf8") || "null"));
      if (!authorized || !declared.success) return void res.writeHead(authorized ? 400 : 401).end();
      r.declared.set(declared.data.path, declared.data);
      const plan = { path: declared.data.path, mode: "api", partSizeBytes: declared.data.sizeBytes, partCount: 1 };
      return void res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(plan));
    }
    if (req.method === "PUT" && kind === "runs" && what === "artifacts" && rest.length > 0) {
      const path = rest.map(decodeURIComponent).join("/");
      const declared = r.declared.get(path);
      if (!declared || declared.sha256 !== sha256(data) || declared.sizeBytes !== data.length)
        return void res.writeHead(422).end();
      r.artifacts.set(path, { auth: req.headers.authorization, sha256: sha256(data) });
      return void res.writeHead(authorized ? 201 : 401).end();
    }
    res.writeHead(404).end();
  }

  private dataset(r: FakeRun, url: URL, res: ServerResponse): void {
    r.datasetRequests++;
    const answer = r.behaviour.dataset?.(r.datasetRequests) ?? "ok";
    if (answer === "500") return void res.writeHead(500).end("boom");
    // the API's answer to a spent single-use token (apps/api error-handler shape)
    if (answer === "token-used") return void apiError(res, 401, "TOKEN_USED", "download token was already used");
    if (url.searchParams.get("token") !== r.datasetToken) return void res.writeHead(403).end();
    if (answer === "broken") {
      // a transfer broken mid-way: headers promise the whole file, 20 bytes of it come, then the connection resets
      res.writeHead(200, { "content-type": "application/x-ndjson", "content-length": Buffer.byteLength(r.data) });
      res.write(r.data.slice(0, 20));
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    res.writeHead(200, { "content-type": "application/x-ndjson" }).end(r.data);
  }
}
