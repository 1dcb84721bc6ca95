import { ERRORS, type ErrorDefinition, type ErrorName } from "./catalogue.js";

export interface ApiErrorOptions {
  /** Overrides the catalogue message (e.g. 100 names the missing attribute). */
  message?: string;
  /** Where it happened, reported as `context` in the envelope. */
  context?: string;
  headers?: Record<string, string>;
  /** Extra top-level fields of the response body, next to the envelope (e.g. `canDeploy`). */
  body?: Record<string, unknown>;
  cause?: unknown;
}

/** An error with a catalogue code; the error middleware turns it into the documented envelope. */
export class ApiError extends Error {
  readonly definition: ErrorDefinition;
  readonly context: string | undefined;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;

  constructor(name: ErrorName, options: ApiErrorOptions = {}) {
    const definition = ERRORS[name];
    super(options.message ?? definition.message, { cause: options.cause });
    this.name = "ApiError";
    this.definition = definition;
    this.context = options.context;
    this.headers = options.headers ?? {};
    this.body = options.body ?? {};
  }

  get status(): number {
    return this.definition.status;
  }
}
