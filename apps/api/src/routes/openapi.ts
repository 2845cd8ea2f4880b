import path from "node:path";
import express, { Router } from "express";
import { buildOpenApiDocument } from "../openapi/document";

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>trainpod API</title><link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="docs"></div><script src="/docs/assets/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#docs", deepLinking: true });\n`;

/** /openapi.json (generated once from the zod schemas) and /docs (Swagger UI served from node_modules, no CDN). */
export function openApiRoutes(): Router {
  const router = Router();
  const doc = buildOpenApiDocument();
  const assets = path.dirname(require.resolve("swagger-ui-dist/package.json"));
  router.get("/openapi.json", (_req, res) => {
    res.json(doc);
  });
  router.get("/docs", (_req, res) => {
    res.type("html").send(PAGE);
  });
  router.get("/docs/init.js", (_req, res) => {
    res.type("js").send(INIT);
  });
  router.use("/docs/assets", express.static(assets, { index: false, maxAge: "1h" }));
  return router;
}
