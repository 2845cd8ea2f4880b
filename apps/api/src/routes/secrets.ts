import { Router } from "express";
import { currentUserId } from "../http/auth";
import {
  deleteSecret,
  listSecrets,
  setSecret,
  type Clock,
  type PrismaClient,
  type SecretsKeyring,
  type SecretView,
} from "@trainpod/core";

export interface SecretRouteDeps {
  prisma: PrismaClient;
  clock: Clock;
  keyring: SecretsKeyring;
}

const view = (s: SecretView) => ({
  name: s.name,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

/**
 * The caller's own secrets (mounted behind the API key middleware and the JSON parser): set (201 new, 200 replaced),
 * list (names and dates), delete (204, 404 unknown). No route ever answers a value.
 */
export function secretRoutes(deps: SecretRouteDeps): Router {
  const router = Router();
  router.post("/v1/secrets", async (req, res) => {
    const { secret, created } = await setSecret(deps, currentUserId(req), req.body);
    res.status(created ? 201 : 200).json(view(secret));
  });
  router.get("/v1/secrets", async (req, res) => {
    res.json({ items: (await listSecrets(deps.prisma, currentUserId(req))).map(view) });
  });
  router.delete("/v1/secrets/:name", async (req, res) => {
    await deleteSecret(deps.prisma, currentUserId(req), String(req.params.name));
    res.status(204).end();
  });
  return router;
}
