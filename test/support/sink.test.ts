import { Client, Pool, request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSink, type Sink } from "./sink.js";
import {
  countInWindow,
  gapsMs,
  maxInSlidingWindow,
  meanRatePerSecond,
  percentile,
  preciseNow,
  rateAround,
  spanMs,
  waitFor,
} from "./timing.js";

/** 1.7e12-ish, like real `at` stamps, so the arithmetic is exercised at realistic magnitudes. */
const BASE = 1_750_000_000_000;
const spaced = (count: number, stepMs: number, from = BASE): number[] =>
  Array.from({ length: count }, (_, i) => from + i * stepMs);

describe("timing helpers", () => {
  it("maxInSlidingWindow counts the busiest half-open second", () => {
    expect(maxInSlidingWindow(spaced(600, 5))).toBe(200);
    expect(maxInSlidingWindow(spaced(201, 999 / 200))).toBe(201);
    expect(maxInSlidingWindow([BASE, BASE + 1000])).toBe(1);
    expect(maxInSlidingWindow([BASE, BASE + 999.999])).toBe(2);
    expect(maxInSlidingWindow([BASE, BASE + 10, BASE + 500], 100)).toBe(2);
    expect(maxInSlidingWindow([])).toBe(0);
  });

  it("maxInSlidingWindow finds a burst in the middle of a slow stream", () => {
    const times = [...spaced(10, 500), ...spaced(50, 1, BASE + 5_000 + 200), ...spaced(10, 500, BASE + 6_000)];
    expect(maxInSlidingWindow(times.sort((a, b) => a - b))).toBe(51);
  });

  it("rejects unsorted input where order matters", () => {
    expect(() => maxInSlidingWindow([2, 1])).toThrow(/sorted/);
    expect(() => gapsMs([2, 1])).toThrow(/sorted/);
    expect(() => maxInSlidingWindow([1, 2], 0)).toThrow(/positive/);
  });

  it("countInWindow and rateAround use half-open intervals", () => {
    const times = spaced(600, 5);
    expect(countInWindow(times, BASE, BASE + 1000)).toBe(200);
    expect(countInWindow(times, BASE + 5, BASE + 10)).toBe(1);
    expect(rateAround(times, BASE + 2000)).toBe(200);
    expect(rateAround(times, BASE + 2500)).toBe(100);
    expect(rateAround(times, BASE + 2500, 100)).toBe(20);
  });

  it("spanMs, meanRatePerSecond and gapsMs describe the spacing", () => {
    const times = spaced(600, 5);
    expect(spanMs(times)).toBe(2995);
    expect(meanRatePerSecond(times)).toBeCloseTo(200, 9);
    expect(gapsMs([BASE, BASE + 3, BASE + 10])).toEqual([3, 7]);
    expect(spanMs([BASE])).toBe(0);
    expect(meanRatePerSecond([BASE])).toBe(0);
  });

  it("percentile uses nearest rank over unsorted values", () => {
    const values = [50, 10, 40, 20, 30, 100, 60, 90, 70, 80];
    expect(percentile(values, 0)).toBe(10);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(100);
    expect(percentile(values, 100)).toBe(100);
    expect(() => percentile([], 50)).toThrow(/empty/);
    expect(() => percentile(values, 101)).toThrow(/within/);
  });

  it("waitFor resolves once the predicate holds and times out with the message", async () => {
    let calls = 0;
    await waitFor(async () => ++calls >= 3, { timeoutMs: 1000, intervalMs: 5 });
    expect(calls).toBe(3);

    const started = preciseNow();
    await expect(waitFor(() => false, { timeoutMs: 60, message: "the queue drained" })).rejects.toThrow(
      "waitFor timed out after 60 ms: the queue drained",
    );
    expect(preciseNow() - started).toBeGreaterThanOrEqual(55);
  });
});

describe("sink", () => {
  let sink: Sink;

  beforeAll(async () => {
    sink = await startSink();
  });
  afterEach(() => sink.reset());
  afterAll(() => sink.close());

  it("records method, path with query, headers, body and a high-resolution arrival time", async () => {
    const before = preciseNow();
    const response = await request(`${sink.url}/hooks/order?id=7`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-trace": "abc" },
      body: '{"n":1}',
    });
    const after = preciseNow();

    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json");
    expect(await response.body.json()).toEqual({ ok: true });
    expect(sink.arrivals).toHaveLength(1);
    const [arrival] = sink.arrivals;
    expect(arrival).toMatchObject({ method: "POST", path: "/hooks/order?id=7", body: '{"n":1}' });
    expect(arrival?.headers["x-trace"]).toBe("abc");
    expect(arrival?.at).toBeGreaterThanOrEqual(before);
    expect(arrival?.at).toBeLessThanOrEqual(after);
  });

  it("filters arrivals by path prefix and lists their times sorted", async () => {
    for (const path of ["/a/1", "/b/1", "/a/2"]) await (await request(`${sink.url}${path}`)).body.dump();

    expect(sink.arrivalsFor("/a/").map((a) => a.path)).toEqual(["/a/1", "/a/2"]);
    const times = sink.arrivalTimes();
    expect(times).toHaveLength(3);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(sink.arrivalTimes("/b")).toEqual([sink.arrivalsFor("/b")[0]?.at]);
  });

  it("answers with the programmed status, headers, body and delay", async () => {
    const counts: number[] = [];
    sink.respond((arrival, countForPath) => {
      counts.push(countForPath);
      return arrival.path.startsWith("/slow")
        ? { delayMs: 150 }
        : { status: 503, headers: { "retry-after": "2", "content-type": "text/plain" }, body: "busy" };
    });

    const busy = await request(`${sink.url}/busy`);
    expect(busy.statusCode).toBe(503);
    expect(busy.headers["retry-after"]).toBe("2");
    expect(busy.headers["content-type"]).toBe("text/plain");
    expect(await busy.body.text()).toBe("busy");
    await (await request(`${sink.url}/busy?again=1`)).body.dump();

    const started = preciseNow();
    const slow = await request(`${sink.url}/slow`);
    await slow.body.dump();
    expect(slow.statusCode).toBe(200);
    expect(preciseNow() - started).toBeGreaterThanOrEqual(140);

    expect(counts).toEqual([1, 2, 1]);
  });

  it("plays a per-path sequence, keyed on the path without query, then falls back to the handler", async () => {
    sink.respondSequence("/seq", [{ status: 503 }, { status: 429, headers: { "retry-after": "1" } }]);
    const statusOf = async (path: string): Promise<number> => {
      const response = await request(`${sink.url}${path}`);
      await response.body.dump();
      return response.statusCode;
    };

    expect(await statusOf("/seq")).toBe(503);
    expect(await statusOf("/other")).toBe(200);
    expect(await statusOf("/seq?attempt=2")).toBe(429);
    expect(await statusOf("/seq")).toBe(200);
  });

  it("reset forgets arrivals and programmed responses", async () => {
    sink.respond(() => ({ status: 500 }));
    await (await request(`${sink.url}/x`)).body.dump();
    sink.reset();

    expect(sink.arrivals).toHaveLength(0);
    const response = await request(`${sink.url}/x`);
    await response.body.dump();
    expect(response.statusCode).toBe(200);
  });

  it("waitForArrivals resolves with the matching arrivals once enough arrived", async () => {
    const waiting = sink.waitForArrivals(3, { pathPrefix: "/w/", timeoutMs: 2000 });
    for (const path of ["/w/1", "/elsewhere", "/w/2", "/w/3"]) await (await request(`${sink.url}${path}`)).body.dump();

    const arrivals = await waiting;
    expect(arrivals.map((a) => a.path)).toEqual(["/w/1", "/w/2", "/w/3"]);
    await expect(sink.waitForArrivals(1, { timeoutMs: 10 })).resolves.toHaveLength(4);
  });

  it("waitForArrivals rejects with how many arrived", async () => {
    await (await request(`${sink.url}/w/1`)).body.dump();
    await expect(sink.waitForArrivals(5, { pathPrefix: "/w/", timeoutMs: 80 })).rejects.toThrow(
      'sink.waitForArrivals: expected 5 arrivals with path prefix "/w/" within 80 ms, got 1',
    );
  });

  it("records 2000 concurrent keep-alive requests", async () => {
    const pool = new Pool(sink.url, { connections: 32 });
    try {
      const count = 2000;
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const response = await pool.request({ method: "POST", path: `/load/${i}`, body: `${i}` });
          await response.body.dump();
          expect(response.statusCode).toBe(200);
        }),
      );

      const arrivals = sink.arrivalsFor("/load/");
      expect(arrivals).toHaveLength(count);
      expect(new Set(arrivals.map((a) => a.body)).size).toBe(count);
      expect(arrivals.every((a) => a.path === `/load/${a.body}`)).toBe(true);
    } finally {
      await pool.close();
    }
  });
});

describe("sink hang and close", () => {
  it("keeps a hung request open until close, which returns promptly and fails the client", async () => {
    const sink = await startSink();
    const client = new Client(sink.url);
    sink.hang("/never");
    try {
      const hung = client.request({ method: "POST", path: "/never?x=1", body: "payload" });
      const outcome = hung.then(
        () => "answered",
        () => "failed",
      );
      const pending = sink.waitForArrivals(1, { pathPrefix: "/other", timeoutMs: 5000 });
      const pendingOutcome = pending.catch((error: Error) => error.message);

      const [arrival] = await sink.waitForArrivals(1, { pathPrefix: "/never", timeoutMs: 2000 });
      expect(arrival?.body).toBe("payload");
      const stillPending = await Promise.race([outcome, new Promise((resolve) => setTimeout(resolve, 100, "pending"))]);
      expect(stillPending).toBe("pending");

      const started = preciseNow();
      await sink.close();
      expect(preciseNow() - started).toBeLessThan(500);
      expect(await outcome).toBe("failed");
      expect(await pendingOutcome).toBe("sink.waitForArrivals: the sink closed after 0 of 1 arrivals");
    } finally {
      await client.destroy();
      await sink.close();
    }
  });

  it("close cuts short a delayed answer", async () => {
    const sink = await startSink();
    sink.respond(() => ({ delayMs: 10_000 }));
    const client = new Client(sink.url);
    try {
      const outcome = client.request({ method: "GET", path: "/slow" }).then(
        () => "answered",
        () => "failed",
      );
      await sink.waitForArrivals(1, { timeoutMs: 2000 });

      const started = preciseNow();
      await sink.close();
      expect(preciseNow() - started).toBeLessThan(500);
      expect(await outcome).toBe("failed");
    } finally {
      await client.destroy();
    }
  });
});
