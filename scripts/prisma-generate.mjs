// Runs `prisma generate` without the network: Prisma 7's CLI insists on a native schema
// engine binary before generating, which it would download; any existing file satisfies it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "node_modules", "prisma", "build", "index.js");
if (!existsSync(cli)) {
  console.log("prisma-generate: prisma CLI not installed yet, skipping");
  process.exit(0);
}
const env = {
  ...process.env,
  CHECKPOINT_DISABLE: "1",
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? "/bin/true",
};
const r = spawnSync(process.execPath, [cli, "generate", "--config", path.join(root, "prisma.config.ts")], {
  cwd: root,
  env,
  stdio: "inherit",
});
process.exit(r.status ?? 1);
