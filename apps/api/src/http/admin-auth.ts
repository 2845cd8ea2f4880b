import type { RequestHandler } from "express";
import { AppError, authenticateApiKey, type Clock, type PrismaClient } from "@trainpod/core";

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i;
export const ADMIN_REALM = 'Basic realm="trainpod admin", charset="UTF-8"';

/** The API key in `Authorization`: a Bearer token, or the password of HTTP Basic (any username). */
export function credentialFrom(header: string | undefined): string | undefined {
  const bearer = BEARER.exec(header ?? "");
  if (bearer) return bearer[1];
  const basic = BASIC.exec(header ?? "");
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * Admin screens (dashboard, Bull Board, stats): an ADMIN user's API key, as a Bearer token or as the
 * password of HTTP Basic so a browser can log in. No or a bad credential: 401 with a Basic challenge;
 * a valid key of a non-admin: 403. Never open.
 */
export function adminAuth(deps: { prisma: PrismaClient; clock: Clock }): RequestHandler {
  return async (req, res, next) => {
    try {
      const { user, apiKey } = await authenticateApiKey(deps.prisma, deps.clock, credentialFrom(req.get("authorization")));
      req.user = { id: user.id, email: user.email, role: user.role, apiKeyId: apiKey.id };
    } catch (err) {
      if (err instanceof AppError && err.code === "UNAUTHORIZED") res.set("WWW-Authenticate", ADMIN_REALM);
      throw err;
    }
    if (req.user.role !== "ADMIN") throw new AppError("FORBIDDEN", "admin only");
    next();
  };
}
