import { defineConfig } from "prisma/config";

// Datasource URL for the Prisma CLI. The app itself builds its client from core's config.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/trainpod" },
});
