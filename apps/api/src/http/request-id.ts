import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";

declare module "express-serve-static-core" {
  interface Request {
    id: string;
  }
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** Takes a well-formed X-Request-Id from the caller or makes one, and echoes it back. */
export const requestId: RequestHandler = (req, res, next) => {
  const given = req.get("x-request-id");
  req.id = given !== undefined && SAFE_ID.test(given) ? given : randomUUID();
  res.setHeader("X-Request-Id", req.id);
  next();
};
