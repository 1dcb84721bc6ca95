import type { Tx } from "../db/prisma.js";
import type { ThrottlingConfig } from "../generated/prisma/client.js";

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

/** Deploy: a new active runtime version, numbered after the org's previous ones. */
export async function activateRuntimeVersion(tx: Tx, config: ThrottlingConfig): Promise<{ id: string; version: number }> {
  const latest = await tx.runtimeVersion.aggregate({ where: { orgId: config.orgId }, _max: { version: true } });
  const version = (latest._max.version ?? 0) + 1;
  return tx.runtimeVersion.create({
    data: { orgId: config.orgId, configUid: config.uid, version, status: "active", ...valuesOf(config) },
    select: { id: true, version: true },
  });
}

/** Update of a deployed config: the active version takes the new values in place. Its id, or undefined if none is active. */
export async function updateActiveRuntimeVersion(tx: Tx, configUid: string, values: RuntimeValues): Promise<string | undefined> {
  const active = await tx.runtimeVersion.findFirst({ where: { configUid, status: "active" }, select: { id: true } });
  if (active) await tx.runtimeVersion.update({ where: { id: active.id }, data: valuesOf(values) });
  return active?.id;
}

/** Undeploy: the active version stops matching new calls and drains its queue for `drainMs` (24 h). */
export async function drainRuntimeVersion(tx: Tx, configUid: string, drainMs: number): Promise<void> {
  await tx.runtimeVersion.updateMany({
    where: { configUid, status: "active" },
    data: { status: "draining", drainUntil: new Date(Date.now() + drainMs) },
  });
}
