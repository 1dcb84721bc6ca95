import { randomUUID } from "node:crypto";
import { buildCanDeployReport, runtimeReadiness, type CanDeployReport, type RuntimeReadinessLink } from "../authoring/can-deploy.js";
import { authoredBy, deployedBy, modifiedBy } from "../authoring/metadata.js";
import { OwnedConfigs } from "../authoring/owned-configs.js";
import type { Db, SqlPool } from "../db/prisma.js";
import { Prisma, type ThrottlingConfig } from "../generated/prisma/client.js";
import { activateRuntimeVersion, drainRuntimeVersion, updateActiveRuntimeVersion } from "../runtime/runtime-versions.js";
import { withDeadline } from "../shared/deadline.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { Principal, SandboxRef } from "../tenancy/principal.js";
import type { ThrottlingConfigInput } from "./throttling-config.schema.js";
import { readThrottlingConfig, type LatestRuntimeVersion } from "./throttling-config.read.js";
import { deployedSnapshot } from "./throttling-config.view.js";
import { errorReport, validatePayload } from "./validate-payload.js";

const editableFields = (input: ThrottlingConfigInput) => ({
  name: input.name ?? null,
  description: input.description ?? null,
  urlPattern: input.urlPattern,
  methods: input.methods,
  maxThroughput: input.maxThroughput,
});

const PUBLISH_RATE_DEADLINE_MS = 500;

/** How the throttling side reaches the runtime. */
export interface RuntimeLink extends RuntimeReadinessLink {
  drainMs: number;
  /** Tells the workers a version's rate right after the commit (they also re-read it from Postgres every 500 ms). */
  publishRate(runtimeVersionId: string, maxThroughput: number): Promise<void>;
}

/** The eight Throttling API operations over Postgres. Every write happens in one transaction. */
export class ThrottlingConfigService {
  private readonly configs: OwnedConfigs<ThrottlingConfig>;

  constructor(
    private readonly db: Db,
    private readonly runtime: RuntimeLink,
    private readonly sql: SqlPool,
  ) {
    this.configs = new OwnedConfigs(db, {
      table: "throttling_configs",
      notFound: "NOT_FOUND",
      find: (client, where) => client.throttlingConfig.findFirst({ where }),
    }, runtime.announceChange);
  }

  list(orgId: string): Promise<ThrottlingConfig[]> {
    return this.db.throttlingConfig.findMany({ where: { orgId }, orderBy: { createdAt: "asc" } });
  }

  /** The config and its latest runtime version, in one query. */
  get(orgId: string, uid: string): Promise<{ config: ThrottlingConfig; runtime?: LatestRuntimeVersion }> {
    return this.configs.read(uid, () => readThrottlingConfig(this.sql, orgId, uid));
  }

  async create(actor: Principal, sandbox: SandboxRef, input: ThrottlingConfigInput): Promise<ThrottlingConfig> {
    try {
      return await this.db.throttlingConfig.create({
        data: {
          uid: randomUUID(),
          orgId: actor.orgId,
          sandboxId: sandbox.id,
          sandboxName: sandbox.name,
          ...editableFields(input),
          ...authoredBy(actor),
        },
      });
    } catch (error) {
      // The unique index on org_id decides races between concurrent creates.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
        throw new ApiError("CREATE_LIMIT", { cause: error });
      }
      throw error;
    }
  }

  async update(actor: Principal, uid: string, input: ThrottlingConfigInput): Promise<ThrottlingConfig> {
    let activeVersionId: string | undefined;
    const updated = await this.configs.withLocked(actor.orgId, uid, async (tx, current) => {
      const values = editableFields(input);
      const deployed = current.state === "deployed";
      // Deployed: the runtime takes the new values now, in place (seed: "taken into account immediately").
      if (deployed) {
        activeVersionId = await updateActiveRuntimeVersion(tx, uid, values);
        if (!activeVersionId) throw new ApiError("UPDATE_NOT_ACTIVE");
      }
      return tx.throttlingConfig.update({
        where: { uid },
        data: {
          ...values,
          state: deployed ? "deployed" : "updated",
          ...(deployed ? { deployedConfig: deployedSnapshot(values) } : {}),
          ...modifiedBy(actor),
        },
      });
    });
    if (activeVersionId) await this.publishRate(activeVersionId, updated.maxThroughput);
    return updated;
  }

  async canDeploy(orgId: string, uid: string): Promise<CanDeployReport> {
    return this.canDeployReport(await this.configs.get(orgId, uid));
  }

  /** Re-validates a stored config and reports runtime readiness as warnings (CONTRACT §4). */
  async canDeployReport(config: ThrottlingConfig): Promise<CanDeployReport> {
    const validated = validatePayload(config);
    if (!validated.ok) return errorReport(validated.violations);
    const warning = await runtimeReadiness(this.runtime);
    return buildCanDeployReport([], warning ? [warning] : []);
  }

  async deploy(actor: Principal, uid: string): Promise<ThrottlingConfig> {
    let runtimeVersionId = "";
    const deployed = await this.configs.withLocked(actor.orgId, uid, async (tx, current) => {
      if (current.state === "deployed") throw new ApiError("ALREADY_DEPLOYED");
      const { id, version } = await activateRuntimeVersion(tx, current);
      runtimeVersionId = id;
      return tx.throttlingConfig.update({
        where: { uid },
        data: {
          state: "deployed",
          hasBeenDeployed: true,
          version: `${version}.0`,
          deployedConfig: deployedSnapshot(current),
          ...deployedBy(actor),
        },
      });
    });
    await this.publishRate(runtimeVersionId, deployed.maxThroughput);
    return deployed;
  }

  undeploy(actor: Principal, uid: string): Promise<ThrottlingConfig> {
    return this.configs.withLocked(actor.orgId, uid, async (tx, current) => {
      if (current.state !== "deployed") throw new ApiError("NOT_DEPLOYED");
      await drainRuntimeVersion(tx, uid, this.runtime.drainMs);
      return tx.throttlingConfig.update({ where: { uid }, data: { state: "undeployed" } });
    });
  }

  /** `force` undeploys a deployed config first (its runtime version drains for 24 h), in the same transaction. */
  async remove(actor: Principal, uid: string, force: boolean): Promise<void> {
    await this.configs.withLocked(actor.orgId, uid, async (tx, current) => {
      if (current.state === "deployed") {
        if (!force) throw new ApiError("DELETE_FORBIDDEN");
        await drainRuntimeVersion(tx, uid, this.runtime.drainMs);
      }
      await tx.throttlingConfig.delete({ where: { uid } });
    });
  }

  /** Best effort after the commit: if Redis is down the workers' 500 ms resync publishes it instead. */
  private async publishRate(runtimeVersionId: string, maxThroughput: number): Promise<void> {
    // Best effort, and never long: the workers re-read the rate from Postgres anyway.
    await withDeadline(this.runtime.publishRate(runtimeVersionId, maxThroughput), PUBLISH_RATE_DEADLINE_MS).catch(() => undefined);
  }
}
