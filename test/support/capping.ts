import { expect } from "vitest";
import type { CappingService } from "../../src/runtime/capping-runtimes.js";
import { cappingApi } from "./capping-api.js";
import type { TestContext } from "./test-app.js";

/** The fields of a capping config that the runtime enforces (CONTRACT §12), as the Capping API takes them. */
export interface CappingValues {
  url: string;
  methods: string[];
  services: Partial<Record<CappingService, { maxHttpConnections?: number; rating: { maxCallsCount: number; periodInMs: number } }>>;
}

/** Fails the test with the body unless the response has this status. */
async function expectStatus(response: Promise<{ status: number; body: unknown }>, status: number): Promise<{ body: unknown }> {
  const res = await response;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res;
}

/** Creates a capping config and deploys it. */
export async function deployCapping(ctx: TestContext, values: CappingValues): Promise<{ uid: string }> {
  const created = await expectStatus(cappingApi(ctx).create(values), 200);
  const uid = (created.body as { uid: string }).uid;
  await deployCappingAgain(ctx, uid);
  return { uid };
}

/** Deploys an existing capping config (again): its runtime takes the config's current values. */
export async function deployCappingAgain(ctx: TestContext, uid: string): Promise<void> {
  await expectStatus(cappingApi(ctx).deploy(uid), 204);
}

/** PUTs new values; a deployed config keeps its deployed values until it is deployed again. */
export async function updateCapping(ctx: TestContext, uid: string, values: CappingValues): Promise<void> {
  await expectStatus(cappingApi(ctx).update(uid, values), 200);
}

/** Undeploys: the capping runtime starts draining. */
export async function undeployCapping(ctx: TestContext, uid: string): Promise<void> {
  await expectStatus(cappingApi(ctx).undeploy(uid), 204);
}

/** Deletes the config; `force` undeploys a deployed one in the same call. */
export async function deleteCapping(ctx: TestContext, uid: string, force = false): Promise<void> {
  await expectStatus(cappingApi(ctx).remove(uid, force), 200);
}
