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
      // Rate measurements: run one file at a time, after the rest, so nothing else competes for the CPU. On a shared
      // VM the host can stall this machine for tens of ms; the timing sink reports its own stalls and the assertions
      // allow for them (test/support/timing.ts, stallAware), and a measurement that still fails is repeated once: an
      // overshoot of the sender's own reads the same both times.
      { extends: true, test: { name: "timing", include: [TIMING], fileParallelism: false, retry: 1 } },
    ],
  },
});
