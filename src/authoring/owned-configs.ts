import type { Db, Tx } from "../db/prisma.js";
import { Prisma } from "../generated/prisma/client.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { ErrorName } from "../shared/errors/catalogue.js";
import { KeyedQueue } from "../shared/keyed-queue.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface OwnedConfigTable<Row> {
  /** The table, for the row lock. */
  readonly table: "throttling_configs" | "capping_configs";
  /** What an unknown uid answers: also a uid of another org, or one that is not a uuid (CONTRACT §2). */
  readonly notFound: ErrorName;
  find(client: Tx, where: { uid: string; orgId: string }): Promise<Row | null>;
}

/** Reads and locked writes of one org's configs of one table. */
export class OwnedConfigs<Row> {
  private readonly writes = new KeyedQueue();

  constructor(
    private readonly db: Db,
    private readonly configs: OwnedConfigTable<Row>,
    /** Called once a locked write committed (a deploy, update, undeploy or delete may change the org's runtime). */
    private readonly committed: (orgId: string) => Promise<void>,
  ) {}

  get(orgId: string, uid: string): Promise<Row> {
    return this.read(uid, async () => (await this.configs.find(this.db, { uid, orgId })) ?? undefined);
  }

  /** What `find` reads of config `uid` (a uuid), or the feature's 404. */
  async read<T>(uid: string, find: () => Promise<T | undefined>): Promise<T> {
    const found = UUID.test(uid) ? await find() : undefined;
    if (found === undefined) throw this.notFound(uid);
    return found;
  }

  /**
   * Runs `work` in a transaction holding a row lock on the org's config, so state transitions serialize (across
   * processes); within this process writes to one config also queue before taking a connection.
   */
  async withLocked<T>(orgId: string, uid: string, work: (tx: Tx, current: Row) => Promise<T>): Promise<T> {
    if (!UUID.test(uid)) throw this.notFound(uid);
    const result = await this.writes.run(uid, () =>
      this.db.$transaction(async (tx) => {
        const locked = await tx.$queryRaw<{ uid: string }[]>(
          Prisma.sql`SELECT uid FROM ${Prisma.raw(this.configs.table)} WHERE uid = ${uid}::uuid AND org_id = ${orgId} FOR UPDATE`,
        );
        const current = locked.length ? await this.configs.find(tx, { uid, orgId }) : null;
        if (!current) throw this.notFound(uid);
        return work(tx, current);
      }),
    );
    await this.committed(orgId);
    return result;
  }

  private notFound(uid: string): ApiError {
    return new ApiError(this.configs.notFound, { context: `uid ${uid}` });
  }
}
