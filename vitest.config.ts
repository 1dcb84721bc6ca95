import { defineConfig } from "vitest/config";

const TIMING = "test/**/*.timing.test.ts";

export default defineConfig({
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "main", include: ["test/**/*.test.ts"], exclude: [TIMING] } },
      // Rate measurements: run one file at a time, after the rest, so nothing else competes for the CPU.
      { extends: true, test: { name: "timing", include: [TIMING], fileParallelism: false } },
    ],
  },
});
