import { Command, CommanderError } from "commander";
import { loadEnv, type Env } from "../config/env.js";
import { createPrisma, type PrismaClient } from "../db/prisma.js";
import { CallbackSecrets } from "../runtime/callbacks/callback-secrets.js";
import { runtimeKeys } from "../runtime/keys.js";
import { createRedis, redisTarget, type RedisClient } from "../shared/redis.js";
import { announceOrgChange, SUBSCRIBED_TTL_MS, type OrgChange } from "../tenancy/org-changes.js";
import { TenancyService } from "../tenancy/tenancy.service.js";
import { Output } from "./output.js";

/** What command actions use. The environment and the database client are created on first use only. */
export class CliContext {
  private loadedEnv?: Env;
  private prisma?: PrismaClient;
  private service?: TenancyService;
  private secrets?: CallbackSecrets;
  private redis?: RedisClient;

  constructor(readonly output: Output) {}

  get env(): Env {
    return (this.loadedEnv ??= loadEnv());
  }

  get tenancy(): TenancyService {
    return (this.service ??= new TenancyService(this.db, (change, orgId) => this.announce(change, orgId)));
  }

  get callbackSecrets(): CallbackSecrets {
    return (this.secrets ??= new CallbackSecrets(this.db));
  }

  private get db(): PrismaClient {
    return (this.prisma ??= createPrisma(this.env.DATABASE_URL, 2));
  }

  /** Tells the API processes about a change already committed; if Redis cannot be reached, their caches' TTL will. */
  private async announce(change: OrgChange, orgId: string): Promise<void> {
    if (!this.redis) {
      this.redis = createRedis(redisTarget(this.env), { maxRetriesPerRequest: 1, connectTimeout: 3_000 });
      this.redis.on("error", () => undefined); // reported by the failed announcement
    }
    try {
      await announceOrgChange(this.redis, runtimeKeys(this.env.REDIS_PREFIX).orgChanges(), change, orgId);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.output.warning(`API processes were not told (Redis: ${reason}); they apply the change within ${SUBSCRIBED_TTL_MS / 1000} s`);
    }
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
    await this.prisma?.$disconnect();
  }
}

/**
 * Runs a commander program with the global --json flag and resolves to the exit code:
 * 0 on success, 1 for operational errors (one line on stderr, never a stack trace), 2 for usage errors.
 * The database client is always disconnected.
 */
export async function runCli(
  name: string,
  defineCommands: (program: Command, context: CliContext) => void,
  argv: readonly string[] = process.argv,
): Promise<number> {
  const program = new Command(name);
  const output = new Output(() => program.opts<{ json?: boolean }>().json === true);
  const context = new CliContext(output);
  // Subcommands copy these settings when they are created, so they must come first.
  program
    .option("--json", "machine-readable JSON on stdout (errors as JSON on stderr)")
    .exitOverride()
    .configureOutput({ outputError: (message) => output.error(message.trim().replace(/^error: /, "")) });
  defineCommands(program, context);

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    output.error(describe(error));
    return 1;
  } finally {
    await context.close();
  }
}

function describe(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error)).split("\n").map((line) => line.trim()).filter(Boolean);
  // Prisma messages start with the failed call and a source excerpt; the cause is the last line.
  if (error instanceof Error && error.name.startsWith("PrismaClient")) return lines.at(-1) ?? error.name;
  return lines.join(" ") || "unexpected error";
}
