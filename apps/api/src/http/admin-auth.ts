import type { RequestHandler } from "express";
import { ApiKeyCache, AppError, type Clock, type PrismaClient } from "@trainpod/core";
import { authenticateRequest, bearerToken, requireScreenAccess } from "./auth";

const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i;
export const ADMIN_REALM = 'Basic realm="trainpod admin", charset="UTF-8"';

/** The API key in `Authorization`: a Bearer token, or the password of HTTP Basic (any username). */
export function credentialFrom(header: string | undefined): string | undefined {
  const bearer = bearerToken(header);
  if (bearer) return bearer;
  const basic = BASIC.exec(header ?? "");
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * Admin screens (dashboard, Bull Board, stats): an ADMIN's or OPERATOR's API key, as a Bearer token or
 * as the password of HTTP Basic so a browser can log in. No or a bad credential: 401 with a Basic
 * challenge; a USER's key, or an OPERATOR's on anything but GET/HEAD: 403. Never open. Every request
 * looks the key up (no cache).
 */
export function adminAuth(deps: { prisma: PrismaClient; clock: Clock }): RequestHandler {
  const keys = new ApiKeyCache(deps.prisma, deps.clock, { ttlMs: 0 });
  return async (req, res, next) => {
    try {
      await authenticateRequest(keys, req, credentialFrom(req.get("authorization")));
    } catch (err) {
      if (err instanceof AppError && err.code === "UNAUTHORIZED") res.set("WWW-Authenticate", ADMIN_REALM);
      throw err;
    }
    requireScreenAccess(req, res, next);
  };
}
