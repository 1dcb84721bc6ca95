import { expect } from "vitest";
import type { z } from "zod";
import { MAX_BATCH, type AcceptedCall, type CallRecord, type CallState, type callRequest } from "../../src/runtime/accept/call.schema.js";
import { egressAllowFor } from "./egress-allow.js";
import { setupHooks, useTestApp, type SetupScope, type TestAppOptions, type TestContext } from "./test-app.js";
import { waitFor } from "./timing.js";
import { startWorkerProcess, type WorkerProcess } from "./worker-process.js";

/**
 * Runtime helpers shared by the runtime integration tests. Every function takes a `TestContext` ({ app, tenant });
 * pass `{ app: ctx.app, tenant: otherTenant }` to act as another org. Failed requests fail the test with the body.
 */

/** The fields of a throttling config that the runtime enforces. */
export interface ConfigValues {
  urlPattern: string;
  methods: string[];
  maxThroughput: number;
}

export type CallInput = z.input<typeof callRequest>;

const configPath = (uid: string, action = "") => `/authoring/throttlingConfigs/${uid}${action}`;

/** Creates the tenant's throttling config and deploys it (runtime version 1 for a fresh org). */
export async function deployConfig(ctx: TestContext, values: ConfigValues): Promise<{ uid: string }> {
  const created = await ctx.app.request().post("/authoring/throttlingConfigs").set(ctx.tenant.headers()).send(values);
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const uid = created.body.uid as string;
  await deploy(ctx, uid);
  return { uid };
}

/** Deploys an existing config again (after an undeploy this creates a new runtime version). */
export async function deploy(ctx: TestContext, uid: string): Promise<void> {
  const res = await ctx.app.request().post(configPath(uid, "/deploy")).set(ctx.tenant.headers());
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

/** PUTs new values; a deployed config applies them to its runtime version at once. Returns the config's new state. */
export async function updateConfig(ctx: TestContext, uid: string, values: ConfigValues): Promise<string> {
  const res = await ctx.app.request().put(configPath(uid)).set(ctx.tenant.headers()).send(values);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.updatedElement.state as string;
}

/** Undeploys: the runtime version starts draining. */
export async function undeploy(ctx: TestContext, uid: string): Promise<void> {
  const res = await ctx.app.request().post(configPath(uid, "/undeploy")).set(ctx.tenant.headers());
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

/** `count` POST calls to `${urlPrefix}0`, `${urlPrefix}1`, ... */
export function callsTo(urlPrefix: string, count: number): CallInput[] {
  return Array.from({ length: count }, (_, i) => ({ method: "POST", url: `${urlPrefix}${i}`, body: { i } }));
}

/** Submits `calls` through POST /runtime/calls/batch, in batches of at most 1000; the accepted calls in order. */
export async function submitBatch(ctx: TestContext, calls: CallInput[]): Promise<AcceptedCall[]> {
  const accepted: AcceptedCall[] = [];
  for (let start = 0; start < calls.length; start += MAX_BATCH) {
    const res = await ctx.app.request().post("/runtime/calls/batch").set(ctx.tenant.headers())
      .send({ calls: calls.slice(start, start + MAX_BATCH) });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    accepted.push(...(res.body.calls as AcceptedCall[]));
  }
  return accepted;
}

/** GET /runtime/calls/{callId}, expecting 200. */
export async function getCall(ctx: TestContext, callId: string): Promise<CallRecord> {
  // fetch keeps its connections alive, which matters when a test reads hundreds of records.
  const res = await fetch(`${ctx.app.url}/runtime/calls/${callId}`, { headers: ctx.tenant.headers() });
  const body: unknown = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body as CallRecord;
}

const PARALLEL_READS = 16;

/** Reads many records, a few requests at a time; the records in `callIds` order. */
export async function getCalls(ctx: TestContext, callIds: readonly string[]): Promise<CallRecord[]> {
  const records: CallRecord[] = new Array<CallRecord>(callIds.length);
  let next = 0;
  const reader = async () => {
    for (let i = next++; i < callIds.length; i = next++) records[i] = await getCall(ctx, callIds[i]!);
  };
  await Promise.all(Array.from({ length: PARALLEL_READS }, reader));
  return records;
}

/**
 * Polls the records until every call is in one of `states`; resolves with the records in `callIds` order.
 * Calls already there are not read again. Avoid it while measuring rates: it shares the test's event loop with the sink.
 */
export async function waitForCallStates(
  ctx: TestContext,
  callIds: readonly string[],
  states: readonly CallState[],
  timeoutMs: number,
): Promise<CallRecord[]> {
  const settled = new Map<string, CallRecord>();
  let unsettled: CallRecord[] = [];
  let pending = [...callIds];
  await waitFor(
    async () => {
      const records = await getCalls(ctx, pending);
      for (const record of records) if (states.includes(record.state)) settled.set(record.callId, record);
      unsettled = records.filter((record) => !settled.has(record.callId));
      pending = unsettled.map((record) => record.callId);
      return pending.length === 0;
    },
    { timeoutMs, intervalMs: 200, message: `${callIds.length} calls in ${states.join("|")}` },
  ).catch((error: Error) => {
    const seen = [...new Set(unsettled.map((record) => record.state))].join(", ");
    throw new Error(`${error.message}; ${unsettled.length} still in: ${seen}`);
  });
  return callIds.map((id) => settled.get(id)!);
}

export interface RuntimeContext<S> {
  readonly ctx: TestContext;
  /** The sink the file's calls target (available from beforeAll on). */
  readonly sink: S;
  /** The worker processes (available from beforeAll on). */
  readonly workers: readonly WorkerProcess[];
}

/**
 * Registers the hooks most runtime test files need: a sink, the app (`useTestApp`) allowed to send to that sink and
 * nowhere else private, and `workers` real worker processes (default 1) sharing `env`; all stopped again after the
 * file (or, with `scope: "test"`, after each test and each retry of it), workers first.
 */
export function useRuntime<S extends { url: string; close(): Promise<void> }>(options: {
  startSink: () => Promise<S>;
  workers?: number;
  /** The app's and workers' environment overrides (a function: read when the app starts). */
  env?: Record<string, string> | (() => Record<string, string>);
  scope?: SetupScope;
  /** The app's and workers' way to Postgres (see TestAppOptions), read when the app starts. */
  app?: () => TestAppOptions;
}): RuntimeContext<S> {
  const scope = options.scope ?? "file";
  const { setup, teardown } = setupHooks(scope);
  let sink: S | undefined;
  setup(async () => {
    sink = await options.startSink();
  });
  const env = () => (typeof options.env === "function" ? options.env() : options.env);
  const ctx = useTestApp(() => ({ ...egressAllowFor(sink!.url), ...env() }), scope, options.app);
  const workers: WorkerProcess[] = [];
  setup(async () => {
    const started = Array.from({ length: options.workers ?? 1 }, () => startWorkerProcess(ctx.app));
    workers.push(...(await Promise.all(started)));
  });
  teardown(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await sink?.close();
  });
  return {
    ctx,
    get sink() {
      return sink!;
    },
    workers,
  };
}
