import { randomUUID } from "node:crypto";
import type { RedisClient } from "../shared/redis.js";
import type { Db, Tx } from "../db/prisma.js";
import { Prisma, type ThrottlingConfig } from "../generated/prisma/client.js";
import { activateRuntimeVersion, drainRuntimeVersion, updateActiveRuntimeVersion } from "../runtime/runtime-versions.js";
import { countAliveWorkers } from "../runtime/worker-heartbeats.js";
import { KeyedQueue } from "../shared/keyed-queue.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { Principal, SandboxRef } from "../tenancy/principal.js";
import type { CanDeployReport, CanDeployWarning, ThrottlingConfigInput } from "./throttling-config.schema.js";
import { deployedSnapshot } from "./throttling-config.view.js";
import { errorReport, validatePayload } from "./validate-payload.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const editableFields = (input: ThrottlingConfigInput) => ({
  name: input.name ?? null,
  description: input.description ?? null,
  urlPattern: input.urlPattern,
  methods: input.methods,
  maxThroughput: input.maxThroughput,
});

/** How the authoring side reaches the runtime. */
export interface RuntimeLink {
  redis: RedisClient;
  redisPrefix: string;
  drainMs: number;
  /** Tells the workers a version's rate right after the commit (they also re-read it from Postgres every 500 ms). */
  publishRate(runtimeVersionId: string, maxThroughput: number): Promise<void>;
}

/** The eight Throttling API operations over Postgres. Every write happens in one transaction. */
export class ThrottlingConfigService {
  private readonly configWrites = new KeyedQueue();

  constructor(
    private readonly db: Db,
    private readonly runtime: RuntimeLink,
  ) {}

  list(orgId: string): Promise<ThrottlingConfig[]> {
    return this.db.throttlingConfig.findMany({ where: { orgId }, orderBy: { createdAt: "asc" } });
  }

  async get(orgId: string, uid: string): Promise<ThrottlingConfig> {
    const config = UUID.test(uid) ? await this.db.throttlingConfig.findFirst({ where: { uid, orgId } }) : null;
    if (!config) throw new ApiError("NOT_FOUND", { context: `uid ${uid}` });
    return config;
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
          createdBy: actor.name,
          createdById: actor.clientId,
          lastModifiedBy: actor.name,
          lastModifiedById: actor.clientId,
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
    const updated = await this.withLockedConfig(actor.orgId, uid, async (tx, current) => {
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
          lastModifiedBy: actor.name,
          lastModifiedById: actor.clientId,
          lastModifiedAt: new Date(),
        },
      });
    });
    if (activeVersionId) await this.publishRate(activeVersionId, updated.maxThroughput);
    return updated;
  }

  async canDeploy(orgId: string, uid: string): Promise<CanDeployReport> {
    return this.canDeployReport(await this.get(orgId, uid));
  }

  /** Re-validates a stored config and reports runtime readiness as warnings (CONTRACT §4). */
  async canDeployReport(config: ThrottlingConfig): Promise<CanDeployReport> {
    const validated = validatePayload(config);
    if (!validated.ok) return errorReport(validated.violations);
    const warning = await this.runtimeWarning();
    return warning ? { validationStatus: "ok", warnings: [warning] } : { validationStatus: "ok" };
  }

  /** Readiness is advisory: an unreachable Redis becomes a warning, so a committed create or update still answers 200. */
  private async runtimeWarning(): Promise<CanDeployWarning | undefined> {
    const alive = await countAliveWorkers(this.runtime.redis, this.runtime.redisPrefix).catch(() => undefined);
    if (alive === undefined) {
      return { warningCode: "RUNTIME_UNKNOWN", warning: "runtime readiness could not be checked: Redis is unreachable" };
    }
    if (alive > 0) return undefined;
    return {
      warningCode: "RUNTIME_NO_WORKER",
      warning: "no runtime worker is alive: a deployed config is enforced only once a worker runs (SERVICES=worker)",
    };
  }

  async deploy(actor: Principal, uid: string): Promise<ThrottlingConfig> {
    let runtimeVersionId = "";
    const deployed = await this.withLockedConfig(actor.orgId, uid, async (tx, current) => {
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
          lastDeployedBy: actor.name,
          lastDeployedById: actor.clientId,
          lastDeployedAt: new Date(),
        },
      });
    });
    await this.publishRate(runtimeVersionId, deployed.maxThroughput);
    return deployed;
  }

  undeploy(actor: Principal, uid: string): Promise<ThrottlingConfig> {
    return this.withLockedConfig(actor.orgId, uid, async (tx, current) => {
      if (current.state !== "deployed") throw new ApiError("NOT_DEPLOYED");
      await drainRuntimeVersion(tx, uid, this.runtime.drainMs);
      return tx.throttlingConfig.update({ where: { uid }, data: { state: "undeployed" } });
    });
  }

  /** `force` undeploys a deployed config first (its runtime version drains for 24 h), in the same transaction. */
  async remove(actor: Principal, uid: string, force: boolean): Promise<void> {
    await this.withLockedConfig(actor.orgId, uid, async (tx, current) => {
      if (current.state === "deployed") {
        if (!force) throw new ApiError("DELETE_FORBIDDEN");
        await drainRuntimeVersion(tx, uid, this.runtime.drainMs);
      }
      await tx.throttlingConfig.delete({ where: { uid } });
    });
  }

  /** Best effort after the commit: if Redis is down the workers' 500 ms resync publishes it instead. */
  private async publishRate(runtimeVersionId: string, maxThroughput: number): Promise<void> {
    await this.runtime.publishRate(runtimeVersionId, maxThroughput).catch(() => undefined);
  }

  /**
   * Runs `work` in a transaction holding a row lock on the org's config, so state transitions serialize (across
   * processes); within this process writes to one config also queue before taking a connection.
   */
  private async withLockedConfig<T>(orgId: string, uid: string, work: (tx: Tx, current: ThrottlingConfig) => Promise<T>): Promise<T> {
    if (!UUID.test(uid)) throw new ApiError("NOT_FOUND", { context: `uid ${uid}` });
    return this.configWrites.run(uid, () => this.lockedTransaction(orgId, uid, work));
  }

  private lockedTransaction<T>(orgId: string, uid: string, work: (tx: Tx, current: ThrottlingConfig) => Promise<T>): Promise<T> {
    return this.db.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ uid: string }[]>`
        SELECT uid FROM throttling_configs WHERE uid = ${uid}::uuid AND org_id = ${orgId} FOR UPDATE`;
      const current = locked.length ? await tx.throttlingConfig.findUnique({ where: { uid } }) : null;
      if (!current) throw new ApiError("NOT_FOUND", { context: `uid ${uid}` });
      return work(tx, current);
    });
  }
}
