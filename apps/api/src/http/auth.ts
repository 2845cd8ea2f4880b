import type { Request, RequestHandler } from "express";
import {
  ApiKeyCache,
  AppError,
  assertScreenAccess,
  type Clock,
  type PrismaClient,
  type UserRole,
} from "@trainpod/core";

/** The caller, as the API key middleware found them. */
export interface AuthUser {
  id: string;
  email: string;
  role: UserRole;
  apiKeyId: string;
}

declare module "express-serve-static-core" {
  interface Request {
    user?: AuthUser;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return BEARER.exec(header ?? "")?.[1];
}

/** Resolves a presented API key (through `keys`) to req.user; a missing, unknown or revoked key is 401 UNAUTHORIZED. */
export async function authenticateRequest(
  keys: ApiKeyCache,
  req: Request,
  credential: string | undefined,
): Promise<void> {
  const { user, apiKey } = await keys.authenticate(credential);
  req.user = { id: user.id, email: user.email, role: user.role, apiKeyId: apiKey.id };
}

/** `Authorization: Bearer tp_live_...` → req.user; anything else 401 with one message. */
export function apiKeyAuth(deps: { prisma: PrismaClient; clock: Clock; apiKeyCacheTtlMs?: number }): RequestHandler {
  const keys = new ApiKeyCache(deps.prisma, deps.clock, { ttlMs: deps.apiKeyCacheTtlMs ?? 0 });
  return async (req, _res, next) => {
    await authenticateRequest(keys, req, bearerToken(req.get("authorization")));
    next();
  };
}

/** After authentication: the operators' screens rule of core (ADMIN all, OPERATOR reads only, USER nothing). */
export const requireScreenAccess: RequestHandler = (req, _res, next) => {
  if (!req.user) throw new AppError("UNAUTHORIZED", "a valid API key is required (Authorization: Bearer tp_live_...)");
  assertScreenAccess(req.user.role, req.method);
  next();
};

/** The authenticated user's id (a route behind apiKeyAuth). */
export function currentUserId(req: Request): string {
  if (!req.user) throw new AppError("UNAUTHORIZED", "a valid API key is required (Authorization: Bearer tp_live_...)");
  return req.user.id;
}
