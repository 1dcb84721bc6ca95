// Prisma CLI configuration.
// `engine: "js"` makes migrate use the WASM schema engine bundled in the CLI, through the pg driver
// adapter, so no native engine is downloaded: the same commands work offline and on a normal machine.
import { PrismaPg } from "@prisma/adapter-pg";
import { defineConfig } from "prisma/config";
import { DEFAULT_DATABASE_URL } from "./src/config/defaults.js";

// `prisma generate` reads the datasource url but never connects; the default keeps it working without a DB.
process.env["DATABASE_URL"] ??= DEFAULT_DATABASE_URL;

export default defineConfig({
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  experimental: { adapter: true },
  adapter: async () => new PrismaPg({ connectionString: process.env["DATABASE_URL"] }),
});
