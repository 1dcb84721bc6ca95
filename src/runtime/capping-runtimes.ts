import type { Tx } from "../db/prisma.js";

/** The Capping API's services (CONTRACT §12); a call names one (`action` by default). */
export const CAPPING_SERVICES = ["action", "dataSource"] as const;
export type CappingService = (typeof CAPPING_SERVICES)[number];

/** What one service of a deployed capping config enforces (a type, not an interface: it is stored as JSON). */
export type CappingLimits = {
  maxCallsCount: number;
  periodInMs: number;
  /** Absent: no cap on connections. */
  maxHttpConnections?: number;
};

/** The values a capping runtime enforces: the config's url and methods, and the limits of each deployed service. */
export interface CappingRuntimeValues {
  url: string;
  methods: string[];
  services: Partial<Record<CappingService, CappingLimits>>;
}

/**
 * Deploy: the config's runtime takes the values and becomes active. A config has one runtime, created by its first
 * deploy and updated in place by later ones (also while it drains after an undeploy): its queues and the windows of
 * its limits carry on, so a redeploy can never let through a second period's worth of calls at once. Returns the
 * runtime's id and its deploy count.
 */
export async function activateCappingRuntime(
  tx: Tx,
  config: { uid: string; orgId: string },
  values: CappingRuntimeValues,
): Promise<{ id: string; version: number }> {
  const data = { url: values.url, methods: values.methods, services: { ...values.services } };
  return tx.cappingRuntime.upsert({
    where: { configUid: config.uid },
    create: { orgId: config.orgId, configUid: config.uid, ...data },
    update: { ...data, status: "active", drainUntil: null, version: { increment: 1 } },
    select: { id: true, version: true },
  });
}

/**
 * Undeploy (or a forced delete): the runtime stops matching new calls and drains its queues for `drainMs` (24 h).
 * It outlives a deleted config (its `configUid` becomes null) until drained.
 */
export async function drainCappingRuntime(tx: Tx, configUid: string, drainMs: number): Promise<void> {
  await tx.cappingRuntime.updateMany({
    where: { configUid, status: "active" },
    data: { status: "draining", drainUntil: new Date(Date.now() + drainMs) },
  });
}
