import type { Response } from "supertest";
import { expect } from "vitest";

/** The JSON carried, as a string, in the envelope's `error` field (CONTRACT §5). */
export interface EnvelopeInner {
  code: number | string;
  family: string;
  message: string;
  service: string;
  version: string;
  context: string;
  schema?: string;
}

export interface Envelope {
  status: number;
  requestId: string;
  inner: EnvelopeInner;
}

export interface ExpectedEnvelope {
  status: number;
  code: number | string;
  family: string;
  /** Exact inner `message`; not checked when omitted. */
  message?: string;
  /** Exact inner `schema`; `null` asserts there is none; not checked when omitted. */
  schema?: string | null;
  /** The x-request-id the request carried, which must come back as `requestId`; otherwise a generated id is expected. */
  requestId?: string;
}

const GENERATED_REQUEST_ID = /^[A-Za-z0-9]{32}$/;

/** Reads the error envelope `{ status, error: "<JSON string>", requestId }`, asserting `error` is a string of JSON. */
export function parseEnvelope(res: Response): Envelope {
  const body = res.body as { status?: unknown; error?: unknown; requestId?: unknown };
  expect(body, `expected an error envelope, got ${res.status} ${res.text}`).toMatchObject({
    status: expect.any(Number),
    error: expect.any(String),
    requestId: expect.any(String),
  });
  return {
    status: body.status as number,
    requestId: body.requestId as string,
    inner: JSON.parse(body.error as string) as EnvelopeInner,
  };
}

/**
 * Asserts `res` is the documented error envelope (CONTRACT §5): HTTP status and body `status` agree,
 * `requestId` is echoed in the x-request-id header, and the inner JSON names the code, family,
 * service, version and context. Returns the parsed envelope for further assertions.
 */
export function expectEnvelope(res: Response, expected: ExpectedEnvelope): Envelope {
  expect(res.status, res.text).toBe(expected.status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  const envelope = parseEnvelope(res);
  expect(envelope.status).toBe(expected.status);
  if (expected.requestId === undefined) expect(envelope.requestId).toMatch(GENERATED_REQUEST_ID);
  else expect(envelope.requestId).toBe(expected.requestId);
  expect(res.headers["x-request-id"]).toBe(envelope.requestId);

  const { inner } = envelope;
  expect(inner.code).toBe(expected.code);
  expect(inner.family).toBe(expected.family);
  if (expected.message !== undefined) expect(inner.message).toBe(expected.message);
  else expect(inner.message).toEqual(expect.any(String));
  expect(inner.service).toBe("sluice-authoring-api");
  expect(inner.version).toEqual(expect.stringMatching(/\S/));
  expect(inner.context).toEqual(expect.any(String));
  if (expected.schema === null) expect(inner).not.toHaveProperty("schema");
  else if (expected.schema !== undefined) expect(inner.schema).toBe(expected.schema);
  return envelope;
}
