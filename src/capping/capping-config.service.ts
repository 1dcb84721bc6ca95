import { randomUUID } from "node:crypto";
import { buildCanDeployReport, runtimeReadiness, type RuntimeReadinessLink } from "../authoring/can-deploy.js";
import { authoredBy, deployedBy, modifiedBy } from "../authoring/metadata.js";
import { OwnedConfigs } from "../authoring/owned-configs.js";
import type { Db } from "../db/prisma.js";
import { Prisma, type CappingConfig } from "../generated/prisma/client.js";
import { activateCappingRuntime, drainCappingRuntime } from "../runtime/capping-runtimes.js";
import { ApiError } from "../shared/errors/api-error.js";
import { KeyedQueue } from "../shared/keyed-queue.js";
import type { Principal, SandboxRef } from "../tenancy/principal.js";
import type { EndpointConfigCanDeployReport, EndpointConfigValues } from "./capping-config.schema.js";
import { storedValues } from "./capping-config.view.js";
import { checkEndpointConfig, deployedSnapshot, undeployable } from "./check-endpoint-config.js";
import { refuseDuplicate } from "./duplicate-endpoint.js";

/** How the capping side reaches the runtime. */
export interface CappingRuntimeLink extends RuntimeReadinessLink {
  drainMs: number;
}

/**
 * The eight Capping API operations over Postgres (CONTRACT §12). Every write happens in one transaction. A config
 * is stored even when canDeploy reports problems; a deploy refuses it then.
 */
export class CappingConfigService {
  private readonly configs: OwnedConfigs<CappingConfig>;
  /**
   * Creates and updates of one org queue here before taking a connection, since each takes the org's lock (see
   * refuseDuplicate): waiting for it in Postgres would hold a pooled connection (see KeyedQueue).
   */
  private readonly orgWrites = new KeyedQueue();

  constructor(
    private readonly db: Db,
    private readonly runtime: CappingRuntimeLink,
  ) {
    this.configs = new OwnedConfigs(db, {
      table: "capping_configs",
      notFound: "ENDPOINT_CONFIG_NOT_FOUND",
      find: (client, where) => client.cappingConfig.findFirst({ where }),
    }, runtime.announceChange);
  }

  list(orgId: string): Promise<CappingConfig[]> {
    return this.db.cappingConfig.findMany({ where: { orgId }, orderBy: [{ createdAt: "asc" }, { uid: "asc" }] });
  }

  get(orgId: string, uid: string): Promise<CappingConfig> {
    return this.configs.get(orgId, uid);
  }

  create(actor: Principal, sandbox: SandboxRef, values: EndpointConfigValues): Promise<CappingConfig> {
    return this.orgWrites.run(actor.orgId, () =>
      this.db.$transaction(async (tx) => {
        await refuseDuplicate(tx, actor.orgId, values);
        return tx.cappingConfig.create({
          data: {
            uid: randomUUID(),
            orgId: actor.orgId,
            sandboxId: sandbox.id,
            sandboxName: sandbox.name,
            ...values,
            ...authoredBy(actor),
          },
        });
      }),
    );
  }

  /** A deployed config becomes `updated`: its runtime keeps the deployed values until the next deploy. */
  update(actor: Principal, uid: string, values: EndpointConfigValues): Promise<CappingConfig> {
    return this.orgWrites.run(actor.orgId, () =>
      this.configs.withLocked(actor.orgId, uid, async (tx) => {
        await refuseDuplicate(tx, actor.orgId, values, uid);
        return tx.cappingConfig.update({
          where: { uid },
          data: { ...values, state: "updated", everUpdated: true, ...modifiedBy(actor) },
        });
      }),
    );
  }

  async canDeploy(orgId: string, uid: string): Promise<EndpointConfigCanDeployReport> {
    return this.canDeployReport(await this.get(orgId, uid));
  }

  /** Every problem of the stored config, its warnings and runtime readiness (CONTRACT §12). */
  async canDeployReport(config: CappingConfig): Promise<EndpointConfigCanDeployReport> {
    const { issues, warnings } = checkEndpointConfig(storedValues(config));
    const readiness = await runtimeReadiness(this.runtime);
    return buildCanDeployReport(issues, readiness ? [...warnings, readiness] : warnings);
  }

  /** Deploying a deployed config applies its values again. */
  deploy(actor: Principal, uid: string): Promise<CappingConfig> {
    return this.configs.withLocked(actor.orgId, uid, async (tx, current) => {
      const checked = checkEndpointConfig(storedValues(current));
      const { deployable } = checked;
      if (!deployable) throw undeployable(uid, checked);
      await activateCappingRuntime(tx, current, deployable);
      return tx.cappingConfig.update({
        where: { uid },
        data: { state: "deployed", hasBeenDeployed: true, deployedConfig: deployedSnapshot(deployable), ...deployedBy(actor) },
      });
    });
  }

  /** Back to `created` or `updated`; the runtime drains for 24 h. A config that is not deployed is left as it is. */
  undeploy(actor: Principal, uid: string): Promise<CappingConfig> {
    return this.configs.withLocked(actor.orgId, uid, async (tx, current) => {
      if (!current.hasBeenDeployed) return current;
      await drainCappingRuntime(tx, uid, this.runtime.drainMs);
      return tx.cappingConfig.update({
        where: { uid },
        data: { state: current.everUpdated ? "updated" : "created", hasBeenDeployed: false, deployedConfig: Prisma.DbNull },
      });
    });
  }

  /** `force` undeploys a deployed config first (its runtime drains for 24 h), in the same transaction. */
  async remove(actor: Principal, uid: string, force: boolean): Promise<void> {
    await this.configs.withLocked(actor.orgId, uid, async (tx, current) => {
      if (current.hasBeenDeployed) {
        if (!force) throw new ApiError("ENDPOINT_CONFIG_DELETE_FORBIDDEN", { context: `uid ${uid}` });
        await drainCappingRuntime(tx, uid, this.runtime.drainMs);
      }
      await tx.cappingConfig.delete({ where: { uid } });
    });
  }
}
