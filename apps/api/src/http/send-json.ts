import type { Response } from "express";
import { deploymentView, type Deployment } from "@trainpod/core";

/**
 * A JSON answer with the headers `res.status(s).json(body)` gives it (Content-Type application/json; charset=utf-8,
 * Content-Length) and `extra` (a Location), written without Express's send: it works out the content type's charset
 * (a parse and a format of the header), copies a long body into a Buffer and checks freshness on every answer. For
 * the answers that carry a deployment made or found (sendDeployment: the submission's is hot; json-body.ts gives what
 * the two saved); the rest keep res.json.
 */
export function sendJson(res: Response, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  for (const [name, value] of Object.entries(extra)) res.setHeader(name, value);
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.end(text);
}

/**
 * A deployment a request made or found again (a submission, a retry, a resume): 202 when it was made, 200 when an
 * earlier one was answered instead (a repeated Idempotency-Key, a retry already made), with its Location.
 */
export function sendDeployment(res: Response, deployment: Deployment, created: boolean, now: Date): void {
  sendJson(res, created ? 202 : 200, deploymentView(deployment, now), { Location: `/v1/deployments/${deployment.id}` });
}
