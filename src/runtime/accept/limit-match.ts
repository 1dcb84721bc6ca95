import type { Db } from "../../db/prisma.js";
import { CAPPING_SERVICES, type CappingLimits, type CappingRuntimeValues } from "../capping-runtimes.js";
import type { StoredLaneInfo } from "../call-record.js";
import { cappedLane, laneId, throttledLane, unthrottledLane, type Lane, type LimitedLane } from "../keys.js";
import type { CallRequest } from "./call.schema.js";
import { compileMatcher } from "./url-match.js";

/** Where a call waits, and the other lanes whose limits it obeys there. */
export interface Matched {
  lane: Lane;
  alsoLimitedBy: LimitedLane[];
}

/** An org's deployed limits, read once per submission, and what its calls' records name about each. */
export interface OrgLimits {
  match(call: CallRequest): Matched;
  /** What the records of calls limited by this lane name (its org, config and version). */
  infoOf(lane: LimitedLane): StoredLaneInfo & { orgId: string };
}

/**
 * The org's active throttling version and active capping runtimes decide, per call (CONTRACT §12): a call matching
 * capping configs (their url and methods, and a limit for its `service`, `action` by default) waits in the lane of
 * the one with the slowest rate and obeys the others' limits and the throttling version's too if that matches;
 * a call matching only the throttling version waits in its lane; any other call in the org's unthrottled lane.
 */
export async function loadOrgLimits(db: Db, orgId: string): Promise<OrgLimits> {
  const [version, capping] = await Promise.all([
    db.runtimeVersion.findFirst({ where: { orgId, status: "active" } }),
    db.cappingRuntime.findMany({ where: { orgId, status: "active" }, orderBy: { createdAt: "asc" } }),
  ]);
  const infos = new Map<string, StoredLaneInfo & { orgId: string }>();
  const infoOf = (configUid: string | null, number: number) => ({ orgId, version: number, ...(configUid ? { configUid } : {}) });
  const caps = capping.map((runtime) => {
    const services = runtime.services as CappingRuntimeValues["services"];
    for (const service of CAPPING_SERVICES) {
      if (services[service]) infos.set(laneId(cappedLane(runtime.id, service)), infoOf(runtime.configUid, runtime.version));
    }
    return { id: runtime.id, services, matches: compileMatcher(runtime.url, runtime.methods) };
  });
  const throttling = version && { lane: throttledLane(version.id), matches: compileMatcher(version.urlPattern, version.methods) };
  if (throttling) infos.set(laneId(throttling.lane), infoOf(version.configUid, version.version));
  /** Calls per ms a capping runtime's service allows: the slowest matching one is where a call waits (and is paced). */
  const rate = (limits: CappingLimits) => limits.maxCallsCount / limits.periodInMs;

  return {
    match(call) {
      const url = new URL(call.url);
      const service = call.service ?? "action";
      const capped = caps
        .flatMap(({ id, services, matches }) => (services[service] && matches(call.method, url) ? [{ id, limits: services[service] }] : []))
        .sort((a, b) => rate(a.limits) - rate(b.limits))
        .map(({ id }) => cappedLane(id, service));
      const throttled = throttling?.matches(call.method, url) ? [throttling.lane] : [];
      const [first, ...others] = [...capped, ...throttled];
      return first ? { lane: first, alsoLimitedBy: others } : { lane: unthrottledLane(orgId), alsoLimitedBy: [] };
    },
    infoOf: (lane) => infos.get(laneId(lane)) ?? { orgId },
  };
}
