import type { Response } from "express";

/**
 * A JSON answer with the headers `res.status(s).json(body)` gives it (Content-Type application/json; charset=utf-8,
 * Content-Length) and `extra` (a Location), written without Express's send: it works out the content type's charset
 * (a parse and a format of the header), copies a long body into a Buffer and checks freshness on every answer. For
 * the submission's answer (json-body.ts gives what the two saved); the rest keep res.json.
 */
export function sendJson(res: Response, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  for (const [name, value] of Object.entries(extra)) res.setHeader(name, value);
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.end(text);
}
