import { expect } from "vitest";
import type { TestContext } from "./test-app.js";

interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Scrape {
  types: Map<string, string>;
  samples: PromSample[];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;

/** A sample value: a Go float, including `NaN` and `±Inf` in any case (prom-client writes `Nan`). */
function parseValue(text: string): number | undefined {
  if (/^nan$/i.test(text)) return NaN;
  if (/^[+-]?inf$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : undefined;
}

/** Parses the text exposition format (0.0.4), failing on any line that is neither a comment nor a sample. */
export function parseExposition(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  for (const line of text.split("\n").filter(Boolean)) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith("#")) continue;
    const match = SAMPLE_LINE.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    const labelText = match![2] ?? "";
    LABEL.lastIndex = 0;
    let consumed = 0;
    for (let label = LABEL.exec(labelText); label; label = LABEL.exec(labelText)) {
      labels[label[1]!] = label[2]!;
      consumed = LABEL.lastIndex;
    }
    expect(consumed, `malformed labels: ${line}`).toBe(labelText.length);
    const value = parseValue(match![3]!);
    expect(value, `malformed value: ${line}`).toBeDefined();
    samples.push({ name: match![1]!, labels, value: value! });
  }
  return { types, samples };
}

export async function scrape(ctx: TestContext): Promise<Scrape & { text: string }> {
  const res = await ctx.app.request().get("/metrics");
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
  return { ...parseExposition(res.text), text: res.text };
}

/** The one sample named `name` whose labels include `labels`; fails if there is not exactly one. */
export function valueOf({ samples }: Scrape, name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]!.value;
}

/** sluice_redis_node_up of one scrape: "<role> <host:port>" → value. */
export async function nodeUp(ctx: TestContext): Promise<Map<string, number>> {
  const res = await ctx.app.request().get("/metrics");
  expect(res.status).toBe(200);
  const samples = parseExposition(res.text).samples.filter((s) => s.name === "sluice_redis_node_up");
  return new Map(samples.map((s) => [`${s.labels["role"]} ${s.labels["node"]}`, s.value]));
}
