import { defineConfig } from "vitest/config";

const TIMING = "test/**/*.timing.test.ts";
/** What the cluster projects run: the runtime (but its tests that never reach Redis), the health per Redis node, and the limiters. */
const ON_CLUSTER = ["test/runtime/**/*.test.ts", "test/http/redis-nodes.test.ts", "test/shared/sliding-window.test.ts", "test/tenancy/api-limits.test.ts"];
/** Fault tests run against a Redis and processes of their own. */
const OWN_REDIS = ["test/runtime/faults/**"];
const NO_REDIS = ["test/runtime/accept/url-match.test.ts", "test/runtime/callbacks/callback-deliverer.test.ts", "test/runtime/dispatch/pause-headers.test.ts", "test/runtime/dispatch/http-sender.test.ts"];
const ONE_REDIS = ["test/support/global-setup.ts"];
const CLUSTER = [...ONE_REDIS, "test/support/redis-cluster-setup.ts"];

// Rate measurements (the timing projects) run one file at a time, after the rest, so nothing else competes for the
// CPU. On a shared VM the host can stall this machine for tens of ms; the timing sink reports its own stalls and the
// assertions allow for them (test/support/timing.ts, stallAware), and a measurement that still fails is repeated
// once, from a fresh setup (useRuntime's scope "test"): an overshoot of the sender's own reads the same both times.
const timing = { include: [TIMING], fileParallelism: false, retry: 1 };

export default defineConfig({
  test: {
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "main", globalSetup: ONE_REDIS, include: ["test/**/*.test.ts"], exclude: [TIMING] } },
      { extends: true, test: { name: "timing", globalSetup: ONE_REDIS, ...timing } },
      // The runtime again, on a 3-master Redis Cluster (CONTRACT §13).
      { extends: true, test: { name: "cluster", globalSetup: CLUSTER, include: ON_CLUSTER, exclude: [TIMING, ...NO_REDIS, ...OWN_REDIS] } },
      { extends: true, test: { name: "cluster-timing", globalSetup: CLUSTER, ...timing } },
    ],
  },
});
