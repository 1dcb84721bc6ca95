import { z } from "zod";
import { CALL_STATES } from "../runtime/accept/call.schema.js";
import { HTTP_METHODS } from "../authoring/http-methods.js";
import { runtimeStatus } from "../authoring/runtime-status.schema.js";

// What the console's JSON API answers (src/console/console.routes.ts). It is for the console page, behind
// ADMIN_TOKEN, and not part of the tenant API's contract; the tests parse its answers with these schemas.

export const consoleConfig = z.object({
  uid: z.uuid(),
  name: z.string().nullable(),
  sandboxName: z.string(),
  state: z.enum(["created", "updated", "deployed", "undeployed"]),
  urlPattern: z.string(),
  methods: z.array(z.string()),
  maxThroughput: z.int(),
  runtime: runtimeStatus.optional(),
});

export const consoleOrg = z.object({
  id: z.string(),
  name: z.string(),
  plan: z.string(),
  configs: z.array(consoleConfig),
});
export type ConsoleOrg = z.infer<typeof consoleOrg>;

export const configLive = z.object({
  configUid: z.uuid(),
  version: z.int(),
  status: z.enum(["active", "draining"]),
  drainUntil: z.iso.datetime().optional(),
  limitPerSecond: z.int(),
  /** `sentPerSecond` covers the whole seconds before this one (epoch seconds), oldest first. */
  endSecond: z.int(),
  sentPerSecond: z.array(z.int()),
  queued: z.int(),
  oldestQueuedAgeMs: z.int(),
  pausedUntil: z.iso.datetime().nullable(),
  inFlight: z.int(),
});
export type ConfigLive = z.infer<typeof configLive>;

export const failedCall = z
  .object({
    callId: z.string(),
    state: z.enum(CALL_STATES),
    method: z.enum(HTTP_METHODS),
    /** The call's URL without its query string. */
    target: z.string(),
    attempts: z.int(),
    acceptedAt: z.iso.datetime(),
    completedAt: z.iso.datetime().optional(),
    status: z.int().optional(),
    error: z.string().optional(),
    throttlingConfigUid: z.uuid().optional(),
  })
  .strict();
export type FailedCall = z.infer<typeof failedCall>;
