// What the same authenticated read costs without Sluice: plain Express and `pg`, one handler doing exactly three
// queries against the bench's database (the credential, the sandbox, the config), checked as Sluice checks them
// (src/tenancy/authenticate.ts, src/tenancy/production-sandbox.ts). Run as its own process by
// bench/support/baseline.ts for the authoring scenario's side-by-side GET.
import { createHash, timingSafeEqual } from "node:crypto";
import express from "express";
import pg from "pg";

const env = (name: string): string => process.env[name] ?? "";
/** The same pool size as Sluice's API process (DATABASE_POOL_SIZE's default). */
const pool = new pg.Pool({ connectionString: env("BASELINE_DATABASE_URL"), max: 10, connectionTimeoutMillis: 5_000 });
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface CredentialRow { client_id: string; org_id: string; name: string; token_hash: string; revoked_at: Date | null }
interface SandboxRow { id: string; name: string; type: string }

const app = express();
app.get("/authoring/throttlingConfigs/:uid", async (req, res) => {
  const token = BEARER.exec(req.get("authorization") ?? "")?.[1];
  const clientId = req.get("x-api-key");
  if (!token || !clientId) return void res.status(401).json({ error: "unauthorized" });
  const { rows: [credential] } = await pool.query<CredentialRow>(
    "SELECT client_id, org_id, name, token_hash, revoked_at FROM credentials WHERE client_id = $1", [clientId]);
  const actual = createHash("sha256").update(token, "utf8").digest();
  const expected = Buffer.from(credential?.token_hash ?? "", "hex");
  if (!credential || credential.revoked_at || actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return void res.status(401).json({ error: "unauthorized" });
  }
  if (req.get("x-gw-ims-org-id") !== credential.org_id) return void res.status(403).json({ error: "org mismatch" });
  const { rows: [sandbox] } = await pool.query<SandboxRow>(
    "SELECT id, name, type FROM sandboxes WHERE org_id = $1 AND name = $2", [credential.org_id, req.get("x-sandbox-name") ?? ""]);
  if (!sandbox) return void res.status(500).json({ error: "unknown sandbox" });
  if (sandbox.type !== "production") return void res.status(400).json({ error: "not a production sandbox" });
  const { rows: [config] } = UUID.test(req.params.uid)
    ? await pool.query("SELECT * FROM throttling_configs WHERE uid = $1 AND org_id = $2", [req.params.uid, credential.org_id])
    : { rows: [] };
  if (!config) return void res.status(404).json({ error: "not found" });
  res.json(config);
});

const server = app.listen(Number(env("BASELINE_PORT")), "127.0.0.1", () => console.log("baseline ready"));
process.on("SIGTERM", () => {
  server.close(() => void pool.end().then(() => process.exit(0)));
  server.closeAllConnections();
});
