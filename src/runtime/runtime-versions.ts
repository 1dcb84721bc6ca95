import type { Tx } from "../db/prisma.js";
import type { ThrottlingConfig } from "../generated/prisma/client.js";

/** How long an undeployed runtime version keeps draining its queue (seed: "pending events continue ... 24 hours"). */
export const DRAIN_PERIOD_MS = 24 * 60 * 60 * 1000;

/** The values a runtime version enforces. */
export interface RuntimeValues {
  urlPattern: string;
  methods: string[];
  maxThroughput: number;
}

const valuesOf = ({ urlPattern, methods, maxThroughput }: RuntimeValues): RuntimeValues => ({
  urlPattern,
  methods,
  maxThroughput,
});

/** Deploy: a new active runtime version, numbered after the org's previous ones. Returns its number. */
export async function activateRuntimeVersion(tx: Tx, config: ThrottlingConfig): Promise<number> {
  const latest = await tx.runtimeVersion.aggregate({ where: { orgId: config.orgId }, _max: { version: true } });
  const version = (latest._max.version ?? 0) + 1;
  await tx.runtimeVersion.create({
    data: { orgId: config.orgId, configUid: config.uid, version, status: "active", ...valuesOf(config) },
  });
  return version;
}

/** Update of a deployed config: the active version takes the new values in place. False if none is active. */
export async function updateActiveRuntimeVersion(tx: Tx, configUid: string, values: RuntimeValues): Promise<boolean> {
  const { count } = await tx.runtimeVersion.updateMany({
    where: { configUid, status: "active" },
    data: valuesOf(values),
  });
  return count > 0;
}

/** Undeploy: the active version stops matching new calls and drains its queue for 24 h. */
export async function drainRuntimeVersion(tx: Tx, configUid: string, now: Date): Promise<void> {
  await tx.runtimeVersion.updateMany({
    where: { configUid, status: "active" },
    data: { status: "draining", drainUntil: new Date(now.getTime() + DRAIN_PERIOD_MS) },
  });
}
