import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { request, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma } from "../../src/db/prisma.js";
import { runtimeKeys, unthrottledLane } from "../../src/runtime/keys.js";
import { beforeAnyApiProcess, TenancyService } from "../../src/tenancy/tenancy.service.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { REDIS_URL } from "../support/test-app.js";
import { freePort, jsonLines, startSluiceProcess, type SluiceProcess } from "./sluice-process.js";

const ORG = `ORG${randomBytes(6).toString("hex").toUpperCase()}@AdobeOrg`;
const BOGUS_TOKEN = `bogus-${randomBytes(12).toString("hex")}`;

let database: TestDatabase;
let redisPrefix: string;
let port: number;
let sluice: SluiceProcess;
let credential: { clientId: string; token: string };

const base = () => `http://127.0.0.1:${port}`;
const credentialHeaders = (token = credential.token) => ({
  authorization: `Bearer ${token}`,
  "x-api-key": credential.clientId,
  "x-gw-ims-org-id": ORG,
  "x-sandbox-name": "prod",
});
const isLine = (msg: string) => (line: string) => line.includes(`"msg":"${msg}"`);
const connectOutcome = () =>
  new Promise<string>((settle) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("connect", () => {
      socket.destroy();
      settle("connected");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
  });
const requestLines = () => jsonLines(sluice.stdout).filter((entry) => entry["req"] !== undefined);

beforeAll(async () => {
  database = await createTestDatabase();
  const db = createPrisma(database.url, 2);
  const tenancy = new TenancyService(db, beforeAnyApiProcess);
  await tenancy.createOrg(ORG);
  await tenancy.createSandbox(ORG, "prod", "production");
  credential = await tenancy.createCredential(ORG, "process-test");
  await db.$disconnect();

  port = await freePort();
  redisPrefix = `sluice-test-${randomBytes(6).toString("hex")}`;
  sluice = startSluiceProcess("src/main.ts", {
    SERVICES: "api",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    // Far beyond the test's patience: the process must exit because requests finished, not because time ran out.
    SHUTDOWN_TIMEOUT_MS: "60000",
  });
  await sluice.waitForLine(isLine("sluice started"));
});

afterAll(async () => {
  // A no-op when the SIGTERM test already ended it.
  sluice?.kill("SIGKILL");
  await sluice?.exited;
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await database?.drop();
});

describe("the sluice process", () => {
  it("logs one JSON line per request, carrying the x-request-id it answered with", async () => {
    const responses = await Promise.all([
      fetch(`${base()}/healthz`),
      fetch(`${base()}/healthz`, { headers: { "x-request-id": "trace-from-caller-1" } }),
      fetch(`${base()}/authoring/list/throttlingConfigs`, { method: "POST", headers: credentialHeaders() }),
      fetch(`${base()}/authoring/list/throttlingConfigs`, { method: "POST", headers: credentialHeaders(BOGUS_TOKEN) }),
    ]);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 401]);
    const ids = responses.map((response) => response.headers.get("x-request-id")!);
    expect(ids[1]).toBe("trace-from-caller-1");

    for (const id of ids) await sluice.waitForLine((line) => line.includes(`"requestId":"${id}"`));
    for (const [index, id] of ids.entries()) {
      const lines = requestLines().filter((entry) => entry["requestId"] === id);
      expect(lines, id).toHaveLength(1);
      expect(lines[0]).toMatchObject({ res: { statusCode: responses[index]!.status } });
    }
    expect(() => jsonLines(sluice.stdout)).not.toThrow();
    expect(sluice.stderr).toEqual([]);
  });

  it("a Redis error during a submission writes the error to the log, but none of the call's headers, body or URL", async () => {
    // A value of the wrong type where BullMQ keeps the queue's settings: adding the job fails with WRONGTYPE, and
    // ioredis attaches the failed command, whose arguments hold the job (the call's headers and body), to the error.
    const redis = new Redis(REDIS_URL);
    await redis.set(runtimeKeys(redisPrefix).queueKey(unthrottledLane(ORG), "meta"), "not a hash");
    await redis.quit();
    const res = await fetch(`${base()}/runtime/calls`, {
      method: "POST",
      headers: { ...credentialHeaders(), "content-type": "application/json" },
      body: JSON.stringify({
        method: "POST",
        url: "https://api.example.org/orders?api_key=secret-query-xyz",
        headers: { Authorization: "Bearer secret-xyz", "X-Api-Secret": "secret-header-xyz" },
        body: { password: "secret-body-xyz" },
      }),
    });
    expect(res.status).toBe(500);
    const failure = await sluice.waitForLine(isLine("request failed"));
    expect(failure).toContain("WRONGTYPE");
    const output = [...sluice.stdout, ...sluice.stderr].join("\n");
    for (const secret of ["secret-xyz", "secret-header-xyz", "secret-body-xyz", "secret-query-xyz"]) expect(output).not.toContain(secret);
  });

  it("on SIGTERM refuses new connections, finishes the in-flight request, then exits 0", async () => {
    const body = JSON.stringify({ urlPattern: "https://api.example.org/*", methods: ["POST"], maxThroughput: 300 });
    const inFlight = request(`${base()}/authoring/throttlingConfigs`, {
      method: "POST",
      headers: { ...credentialHeaders(), "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    });
    const response = once(inFlight, "response") as Promise<[IncomingMessage]>;
    response.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    inFlight.write(body.slice(0, 10));
    await once(inFlight, "socket");
    await sleep(500); // the server has the headers and is waiting for the rest of the body

    sluice.kill("SIGTERM");
    await sluice.waitForLine(isLine("shutting down"));
    // The log line can overtake the close of the listening socket by a moment: poll briefly.
    await expect.poll(connectOutcome, { timeout: 2_000, interval: 50 }).toBe("ECONNREFUSED");

    inFlight.end(body.slice(10));
    const [answer] = await response;
    let text = "";
    for await (const chunk of answer) text += chunk;
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ resStatus: "created" });

    // Promptly: a kept-alive connection must not hold the process until keepAliveTimeout (5 s) or the deadline.
    const code = await Promise.race([sluice.exited, sleep(2_500, "still running")]);
    expect(code).toBe(0);
    expect(sluice.stdout.some(isLine("sluice stopped"))).toBe(true);
    expect(requestLines().filter((entry) => entry["requestId"] === answer.headers["x-request-id"])).toHaveLength(1);
  });

  it("never wrote credentials to its output", () => {
    const output = [...sluice.stdout, ...sluice.stderr].join("\n");
    expect(output.length).toBeGreaterThan(0);
    for (const secret of [credential.token, BOGUS_TOKEN, "Bearer"]) expect(output).not.toContain(secret);
    expect(output.toLowerCase()).not.toContain("authorization");
  });
});

describe("an invalid environment", () => {
  it.each([
    ["PORT", "abc"],
    ["SERVICES", "foo"],
    ["EGRESS_ALLOW", "127.0.0.1:8000-7000"],
    ["EGRESS_DENY", "not-an-address"],
    ["OUTBOUND_PROXY_URL", "socks5://proxy.internal:1080"],
    ["METRICS_TOKEN", "short"],
  ])("%s=%s stops the process with a non-zero exit naming the variable", async (name, value) => {
    const invalid = startSluiceProcess("src/main.ts", { [name]: value, REDIS_URL, DATABASE_URL: "postgresql://127.0.0.1:1/none" });
    expect(await invalid.exited).not.toBe(0);
    const stderr = invalid.stderr.join("\n");
    expect(stderr).toContain("Invalid environment");
    expect(stderr).toMatch(new RegExp(`^\\s*${name}\\b.*:`, "m"));
  });
});

describe("a failure that escapes every handler", () => {
  it.each(["rejection", "exception"])("an uncaught %s is logged through pino as fatal, and the process exits 1", async (kind) => {
    const child = startSluiceProcess(
      "src/main.ts",
      { SERVICES: "api", HOST: "127.0.0.1", PORT: "0", REDIS_URL, DATABASE_URL: database.url, SLUICE_TEST_CRASH: kind },
      undefined,
      ["--import", "./test/process/fixtures/crash-once-handled.mjs"],
    );
    expect(await child.exited).toBe(1);
    const fatal = jsonLines(child.stdout).filter((entry) => entry["level"] === 60);
    expect(fatal).toEqual([
      expect.objectContaining({
        msg: kind === "rejection" ? "unhandled promise rejection" : "uncaught exception",
        err: expect.objectContaining({ message: expect.stringMatching(/^fixture: /) }),
      }),
    ]);
  });
});
