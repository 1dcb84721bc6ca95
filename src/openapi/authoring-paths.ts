import type { OpenAPIRegistry, ResponseConfig } from "@asteasolutions/zod-to-openapi";
import type { z } from "zod";
import type { OperationDoc } from "../http/operation.js";
import type { ErrorName } from "../shared/errors/catalogue.js";
import { withApiLimits } from "./api-limits.js";
import { parameterRef, type PARAMETERS } from "./components.js";
import type { ErrorCase, ExampleRequest } from "./error-examples.js";
import { EXAMPLE_BASE_PATH, EXAMPLE_DEV_SANDBOX, EXAMPLE_SANDBOX, EXAMPLE_UNKNOWN_SANDBOX } from "./examples.js";
import { errorResponse, knownError, type ErrorStatus } from "./responses.js";

/** What documents one authoring feature's operations (throttling, capping), served under each base path of `servers`. */
export interface AuthoringDocs {
  readonly tag: string;
  readonly operations: readonly OperationDoc[];
  /** The `{uid}` path parameter, and the uid of the examples. */
  readonly uidParameter: keyof typeof PARAMETERS;
  readonly exampleUid: string;
  /** What an unknown uid answers, with its 404's headline (the default speaks of throttling configs). */
  readonly notFound: ErrorName;
  readonly notFoundHeadline?: string;
  /** The 400s of an operation that `validatesPayload`. */
  payloadErrors(request: ExampleRequest): ErrorCase[];
  /** An operation's 400 response, when it carries more than the envelope. */
  badRequest(operation: OperationDoc): { schema?: z.ZodType; headline?: string };
  /** The example of an operation's rejection that carries more than the envelope; `knownError` otherwise. */
  rejection?(name: ErrorName, request: ExampleRequest): ErrorCase | undefined;
}

const byUid = (operation: OperationDoc) => operation.path.includes("{uid}");

/** The request an operation's examples answer, at the seed's base path. */
function exampleRequest(docs: AuthoringDocs, operation: OperationDoc, sandbox?: string): ExampleRequest {
  return { method: operation.method.toUpperCase(), path: EXAMPLE_BASE_PATH + operation.path.replace("{uid}", docs.exampleUid), sandbox };
}

/** Every error CONTRACT §2 and §5 give for `operation`, with examples for the seed's base path (§7's are added after). */
function errorResponses(docs: AuthoringDocs, operation: OperationDoc): Partial<Record<ErrorStatus, ResponseConfig>> {
  const request = (sandbox?: string): ExampleRequest => exampleRequest(docs, operation, sandbox);
  const prod = request(EXAMPLE_SANDBOX.name);
  const badRequest = [
    knownError("SANDBOX_REQUIRED", request()),
    knownError("NON_PROD_SANDBOX", request(EXAMPLE_DEV_SANDBOX)),
    ...(operation.rejects ?? []).map((name) => docs.rejection?.(name, prod) ?? knownError(name, prod)),
    ...(operation.validatesPayload ? docs.payloadErrors(prod) : []),
  ];
  const unexpected = [
    knownError("INTERNAL", request(EXAMPLE_UNKNOWN_SANDBOX), { context: `unknown sandbox "${EXAMPLE_UNKNOWN_SANDBOX}"` }),
    ...(operation.failsWith ? [knownError(operation.failsWith, prod)] : []),
  ];
  const notFound = knownError(docs.notFound, prod, { context: `uid ${docs.exampleUid}` });
  return {
    400: errorResponse(400, badRequest, docs.badRequest(operation)),
    401: errorResponse(401, [knownError("UNAUTHORIZED", prod)]),
    403: errorResponse(403, [knownError("ORG_MISMATCH", prod)]),
    ...(byUid(operation) ? { 404: errorResponse(404, [notFound], docs.notFoundHeadline ? { headline: docs.notFoundHeadline } : {}) } : {}),
    413: errorResponse(413, [knownError("PAYLOAD_TOO_LARGE", prod)]),
    415: errorResponse(415, [knownError("UNSUPPORTED_MEDIA_TYPE", prod)]),
    500: errorResponse(500, unexpected),
    503: errorResponse(503, [knownError("DEPENDENCY_UNAVAILABLE", prod)]),
  };
}

/** A feature's authoring operations, relative to the base path. */
export function registerAuthoringOperations(registry: OpenAPIRegistry, docs: AuthoringDocs): void {
  for (const operation of docs.operations) {
    registry.registerPath({
      method: operation.method,
      path: operation.path,
      operationId: operation.operationId,
      summary: operation.summary,
      description: operation.description,
      tags: [docs.tag],
      parameters: [
        ...(byUid(operation) ? [parameterRef(docs.uidParameter)] : []),
        ...(operation.extraParameters ?? []),
        parameterRef("OrgId"),
        parameterRef("SandboxName"),
        parameterRef("RequestId"),
      ],
      ...(operation.body ? { request: { body: operation.body } } : {}),
      responses: withApiLimits(
        { [operation.success.status]: operation.success.response, ...errorResponses(docs, operation) },
        "authoring",
        exampleRequest(docs, operation, EXAMPLE_SANDBOX.name),
      ),
    });
  }
}
