import { createHash } from "node:crypto";
import type { Request, Response } from "express";
import { errorEnvelope } from "../http/middleware/error-envelope.js";
import { ApiError } from "../shared/errors/api-error.js";
import { createLogger } from "../shared/logger.js";
import { validatePayload } from "../throttling/validate-payload.js";
import { SERVICE_VERSION, createRequest } from "./examples.js";
import type { Examples } from "./responses.js";

/** The request an example error answers: method, full path, and the `x-sandbox-name` it sent (if any). */
export interface ExampleRequest {
  readonly method: string;
  readonly path: string;
  readonly sandbox?: string | undefined;
}

/** One documented error: `key` names the example, `summary` defaults to "<code>: <message>". */
export interface ErrorCase {
  readonly key: string;
  readonly error: ApiError;
  readonly request: ExampleRequest;
  readonly summary?: string;
}

const renderError = errorEnvelope({ version: SERVICE_VERSION, logger: createLogger("silent") });

/** Seed-like request id (32 alphanumerics), derived from the example so the document stays deterministic. */
function requestIdFor(seed: string): string {
  return createHash("sha512").update(seed).digest("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 32);
}

/** Captures what the error middleware sends. */
class CapturedResponse {
  readonly headersSent = false;
  body: Record<string, unknown> | undefined;
  constructor(readonly locals: { requestId: string }) {}
  status(): this {
    return this;
  }
  set(): this {
    return this;
  }
  json(body: Record<string, unknown>): this {
    this.body = body;
    return this;
  }
}

/**
 * The body the service answers `error` with, rendered by the real error middleware, so an example carries
 * exactly the envelope (and the inner JSON string) a client receives.
 */
export function errorBody(error: ApiError, request: ExampleRequest): Record<string, unknown> {
  const req = {
    method: request.method,
    path: request.path,
    get: (header: string) => (header.toLowerCase() === "x-sandbox-name" ? request.sandbox : undefined),
  };
  const res = new CapturedResponse({
    requestId: requestIdFor(JSON.stringify([request, error.definition.code, error.message, error.context])),
  });
  renderError(error, req as unknown as Request, res as unknown as Response, () => undefined);
  if (!res.body) throw new Error(`the error middleware sent no body for ${String(error.definition.code)}`);
  return res.body;
}

export function examplesOf(cases: readonly ErrorCase[]): Examples {
  return Object.fromEntries(
    cases.map(({ key, error, request, summary }) => [
      key,
      { summary: summary ?? `${error.definition.code}: ${error.message}`, value: errorBody(error, request) },
    ]),
  );
}

// Payloads breaking each CONTRACT §4 rule, then several at once; validated by the real validator.
const INVALID_PAYLOADS: readonly unknown[] = [
  { methods: ["POST"], maxThroughput: 4000 },
  { ...createRequest, maxThroughput: 10000 },
  { ...createRequest, urlPattern: "https://api.example.org/data/2.5/weather?units=metric" },
  { ...createRequest, urlPattern: "https://*.example.org/data/2.5/*" },
  { ...createRequest, methods: ["FETCH"] },
  { urlPattern: "https://*.example.org/data/*", methods: [], maxThroughput: 100 },
];

/** The 400s a create or update answers for invalid payloads, each with its `canDeploy` report. */
export function validationErrorCases(request: ExampleRequest): ErrorCase[] {
  return INVALID_PAYLOADS.map((payload) => {
    const validated = validatePayload(payload);
    if (validated.ok) throw new Error(`example payload is valid: ${JSON.stringify(payload)}`);
    const [only, ...more] = validated.violations;
    if (only && more.length === 0) return { key: only.name, error: validated.error, request };
    return {
      key: "SEVERAL_RULES",
      error: validated.error,
      request,
      summary: `${validated.violations.length} rules broken at once: canDeploy.errors lists every one`,
    };
  });
}
