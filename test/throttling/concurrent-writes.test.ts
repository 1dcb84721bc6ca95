import { expect, it } from "vitest";
import { useTestApp } from "../support/test-app.js";

const ctx = useTestApp({ DATABASE_POOL_SIZE: "4" });

/** Most backends of this database seen waiting for a lock at once, sampled until `done` settles. */
async function maxLockWaiters(done: Promise<unknown>): Promise<number> {
  let settled = false;
  void done.finally(() => (settled = true));
  let max = 0;
  while (!settled) {
    const [row] = await ctx.app.db.$queryRaw<{ waiting: bigint }[]>`
      SELECT count(*) AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    max = Math.max(max, Number(row!.waiting));
  }
  return max;
}

// Each PUT waiting for the config's row lock inside its transaction used to hold a pooled connection meanwhile:
// under sustained concurrent writes the pool ran dry and unrelated requests failed after the 5 s connect timeout.
it("concurrent PUTs of one deployed config queue in the process, not in Postgres holding connections; all succeed", async () => {
  const headers = ctx.tenant.headers();
  const values = (rate: number) => ({ urlPattern: "https://api.example.org/*", methods: ["POST"], maxThroughput: rate });
  const created = await ctx.app.request().post("/authoring/throttlingConfigs").set(headers).send(values(200));
  const uid = created.body.uid as string;
  expect((await ctx.app.request().post(`/authoring/throttlingConfigs/${uid}/deploy`).set(headers)).status).toBe(204);

  const puts = Promise.all(
    Array.from({ length: 40 }, (_, i) => ctx.app.request().put(`/authoring/throttlingConfigs/${uid}`).set(headers).send(values(200 + i))),
  );
  const waiters = await maxLockWaiters(puts);
  const results = await puts;

  expect(results.map((res) => res.status)).toEqual(results.map(() => 200));
  expect(waiters).toBe(0);
  const active = await ctx.app.db.runtimeVersion.findFirst({ where: { configUid: uid, status: "active" } });
  expect(results.map((res) => res.body.updatedElement.maxThroughput)).toContain(active!.maxThroughput);
});
