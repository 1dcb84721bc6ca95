import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma, type PrismaClient } from "../../src/db/prisma.js";
import { hashToken } from "../../src/tenancy/token.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { runCliScript, sluice, sluiceOk } from "./cli-process.js";

let database: TestDatabase;
let db: PrismaClient;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createPrisma(database.url, 2);
});
afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

const ORG = "CLI1@AdobeOrg";
const OTHER_ORG = "CLI2@AdobeOrg";

/** An operational failure: exit 1, nothing on stdout, exactly one JSON line on stderr, no stack trace. */
function expectOperationalError(run: { code: number | null; stdout: string; stderr: string }, message: string) {
  expect(run.code).toBe(1);
  expect(run.stdout).toBe("");
  expect(run.stderr).toBe(`${JSON.stringify({ error: message })}\n`);
}

describe("sluice org", () => {
  it("creates orgs and lists them as JSON", async () => {
    expect(await sluiceOk(database.url, "org", "create", ORG, "--name", "CLI one", "--plan", "L")).toMatchObject({
      id: ORG,
      name: "CLI one",
      plan: "L",
    });
    expect(await sluiceOk(database.url, "org", "create", OTHER_ORG)).toMatchObject({ id: OTHER_ORG, name: OTHER_ORG, plan: "S" });

    const orgs = await sluiceOk<{ id: string; plan: string; createdAt: string }[]>(database.url, "org", "list");
    expect(orgs.map(({ id, plan }) => ({ id, plan }))).toEqual([
      { id: ORG, plan: "L" },
      { id: OTHER_ORG, plan: "S" },
    ]);
    expect(Date.parse(orgs[0]!.createdAt)).not.toBeNaN();
  });

  it("refuses a duplicate org with exit 1 and one clear stderr line", async () => {
    expectOperationalError(await sluice(database.url, "org", "create", ORG), `org ${ORG} already exists`);

    const plain = await runCliScript("sluice", ["org", "create", ORG], { DATABASE_URL: database.url });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe(`error: org ${ORG} already exists\n`);
    expect(await db.org.count({ where: { id: ORG } })).toBe(1);
  });

  it("refuses an unknown plan with exit 1", async () => {
    expectOperationalError(
      await sluice(database.url, "org", "create", "PLAN@AdobeOrg", "--plan", "XXL"),
      'invalid plan "XXL" (expected one of S, M, L, XL)',
    );
    expect(await db.org.count({ where: { id: "PLAN@AdobeOrg" } })).toBe(0);
  });

  it("prints a readable table without --json", async () => {
    const run = await runCliScript("sluice", ["org", "list"], { DATABASE_URL: database.url });
    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^id\s+name\s+plan\s+createdAt$/);
    expect(rows[0]).toMatch(new RegExp(`^${ORG}\\s+CLI one\\s+L\\s+\\d{4}-`));
  });

  it("callback-secret shows the org's secret (made on first use), the same each time; --rotate keeps the old one 24 h", async () => {
    type Shown = { orgId: string; secret: string; previous?: string; rotatedAt?: string };
    const first = await sluiceOk<Shown>(database.url, "org", "callback-secret", ORG);
    expect(first).toEqual({ orgId: ORG, secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{32}$/) });
    expect(await sluiceOk<Shown>(database.url, "org", "callback-secret", ORG)).toEqual(first);

    const rotated = await sluiceOk<Shown>(database.url, "org", "callback-secret", ORG, "--rotate");
    expect(rotated).toEqual({ orgId: ORG, secret: expect.stringMatching(/^whsec_/), previous: first.secret, rotatedAt: expect.any(String) });
    expect(rotated.secret).not.toBe(first.secret);
    const plain = await runCliScript("sluice", ["org", "callback-secret", ORG], { DATABASE_URL: database.url });
    expect(plain.stdout).toMatch(new RegExp(`^${rotated.secret.replace(/[+/]/g, "\\$&")}\n\\(the previous secret also signs until \\d{4}-`));

    // Past the 24 h, only the new one.
    await db.org.update({ where: { id: ORG }, data: { callbackSecretRotatedAt: new Date(Date.now() - 25 * 3600_000) } });
    expect(await sluiceOk<Shown>(database.url, "org", "callback-secret", ORG)).toEqual({ orgId: ORG, secret: rotated.secret });
    expectOperationalError(await sluice(database.url, "org", "callback-secret", "NOPE@AdobeOrg"), "org NOPE@AdobeOrg does not exist");
  });
});

describe("sluice sandbox", () => {
  it("creates sandboxes and lists them per org", async () => {
    const prod = await sluiceOk<{ id: string }>(database.url, "sandbox", "create", ORG, "prod", "--type", "production");
    expect(prod.id).toMatch(/^[0-9a-f-]{36}$/);
    await sluiceOk(database.url, "sandbox", "create", ORG, "dev", "--type", "development");
    await sluiceOk(database.url, "sandbox", "create", OTHER_ORG, "prod", "--type", "production");

    const sandboxes = await sluiceOk<{ id: string; name: string; type: string; orgId: string }[]>(database.url, "sandbox", "list", ORG);
    expect(sandboxes.map(({ name, type, orgId }) => ({ name, type, orgId }))).toEqual([
      { name: "prod", type: "production", orgId: ORG },
      { name: "dev", type: "development", orgId: ORG },
    ]);
    expect(sandboxes[0]!.id).toBe(prod.id);
  });

  it("refuses an unknown org, a duplicate name and a bad type with exit 1", async () => {
    expectOperationalError(
      await sluice(database.url, "sandbox", "create", "NOPE@AdobeOrg", "prod", "--type", "production"),
      "org NOPE@AdobeOrg does not exist",
    );
    expectOperationalError(await sluice(database.url, "sandbox", "list", "NOPE@AdobeOrg"), "org NOPE@AdobeOrg does not exist");
    expectOperationalError(
      await sluice(database.url, "sandbox", "create", ORG, "prod", "--type", "production"),
      `sandbox prod already exists in org ${ORG}`,
    );
    expectOperationalError(
      await sluice(database.url, "sandbox", "create", ORG, "qa", "--type", "staging"),
      'invalid sandbox type "staging" (expected one of production, development)',
    );
    expect(await db.sandbox.count({ where: { orgId: ORG } })).toBe(2);
  });

  it("treats a missing required option as a usage error: exit 2", async () => {
    const run = await sluice(database.url, "sandbox", "create", ORG, "qa");
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toEqual({ error: "required option '--type <type>' not specified" });
  });
});

describe("sluice credential", () => {
  it("shows the token once, stores only its hash and never lists either", async () => {
    const issued = await sluiceOk<{ clientId: string; token: string }>(database.url, "credential", "create", ORG, "--name", "ci-bot");
    expect(issued.token).toMatch(/^sluice_/);
    const stored = await db.credential.findUniqueOrThrow({ where: { clientId: issued.clientId } });
    expect(stored.tokenHash).toBe(hashToken(issued.token));

    const list = await sluice(database.url, "credential", "list", ORG);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(issued.token);
    expect(list.stdout).not.toContain(stored.tokenHash);
    expect(JSON.parse(list.stdout)).toEqual([
      { clientId: issued.clientId, orgId: ORG, name: "ci-bot", createdAt: stored.createdAt.toISOString(), revokedAt: null },
    ]);
    expect(await sluiceOk(database.url, "credential", "list", OTHER_ORG)).toEqual([]);
  });

  it("refuses an unknown org on create and an unknown clientId on revoke with exit 1", async () => {
    expectOperationalError(
      await sluice(database.url, "credential", "create", "NOPE@AdobeOrg", "--name", "x"),
      "org NOPE@AdobeOrg does not exist",
    );
    expectOperationalError(await sluice(database.url, "credential", "revoke", "sluice-unknown"), "credential sluice-unknown does not exist");
  });
});

describe("sluice org: API limits (CONTRACT §7)", () => {
  const LIMITS_ORG = "CLILIMITS@AdobeOrg";
  beforeAll(async () => {
    await sluiceOk(database.url, "org", "create", LIMITS_ORG);
  });

  it("set-plan changes the plan, which scales the ceilings shown by show", async () => {
    expect(await sluiceOk(database.url, "org", "set-plan", LIMITS_ORG, "L")).toEqual({ orgId: LIMITS_ORG, plan: "L" });
    const shown = await sluiceOk<{ plan: string; perMinute: Record<string, number> }>(database.url, "org", "show", LIMITS_ORG);
    expect(shown).toMatchObject({ plan: "L", perMinute: { authoring: 4_800, runtime: 48_000 }, limitRaises: [] });
  });

  it("raise-limit sets one class until a time, replacing an earlier raise; show lists it", async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await sluiceOk(database.url, "org", "raise-limit", LIMITS_ORG, "--class", "runtime", "--per-minute", "100000", "--until", until);
    await sluiceOk(database.url, "org", "raise-limit", LIMITS_ORG, "--class", "runtime", "--per-minute", "90000", "--until", until);
    const shown = await sluiceOk<{ perMinute: Record<string, number>; limitRaises: unknown[] }>(database.url, "org", "show", LIMITS_ORG);
    expect(shown.perMinute).toEqual({ authoring: 4_800, runtime: 90_000 });
    expect(shown.limitRaises).toEqual([{ limitClass: "runtime", perMinute: 90_000, until }]);
    const text = await runCliScript("sluice", ["org", "show", LIMITS_ORG], { DATABASE_URL: database.url });
    expect(text.stdout).toContain(`raised: runtime 90000 per minute until ${until}`);
  });

  it.each([
    [["set-plan", LIMITS_ORG, "XXL"], 'invalid plan "XXL" (expected one of S, M, L, XL)'],
    [["set-plan", "NOPE@AdobeOrg", "S"], "org NOPE@AdobeOrg does not exist"],
    [["show", "NOPE@AdobeOrg"], "org NOPE@AdobeOrg does not exist"],
    [["raise-limit", LIMITS_ORG, "--class", "admin", "--per-minute", "10", "--until", "2999-01-01T00:00:00Z"], 'invalid class "admin" (expected one of authoring, runtime)'],
    [["raise-limit", LIMITS_ORG, "--class", "runtime", "--per-minute", "0", "--until", "2999-01-01T00:00:00Z"], 'invalid --per-minute "0" (expected a whole number of at least 1)'],
    [["raise-limit", LIMITS_ORG, "--class", "runtime", "--per-minute", "1.5", "--until", "2999-01-01T00:00:00Z"], 'invalid --per-minute "1.5" (expected a whole number of at least 1)'],
    [["raise-limit", LIMITS_ORG, "--class", "runtime", "--per-minute", "10", "--until", "tomorrow"], 'invalid --until "tomorrow" (expected an ISO 8601 time with a zone, e.g. 2026-12-31T18:00:00Z)'],
    [["raise-limit", LIMITS_ORG, "--class", "runtime", "--per-minute", "10", "--until", "2001-01-01T00:00:00Z"], 'invalid --until "2001-01-01T00:00:00Z": it is not in the future'],
    [["raise-limit", "NOPE@AdobeOrg", "--class", "runtime", "--per-minute", "10", "--until", "2999-01-01T00:00:00Z"], "org NOPE@AdobeOrg does not exist"],
  ])("refuses %j with exit 1, changing nothing", async (args, message) => {
    const before = await db.org.findUnique({ where: { id: LIMITS_ORG }, include: { limitRaises: true } });
    expectOperationalError(await sluice(database.url, "org", ...args), message);
    expect(await db.org.findUnique({ where: { id: LIMITS_ORG }, include: { limitRaises: true } })).toEqual(before);
  });
});
