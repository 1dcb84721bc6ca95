import { z } from "zod";
import { SERVICE_NAME } from "../http/middleware/error-envelope.js";
import { ERRORS } from "../shared/errors/catalogue.js";
import { canDeployReport } from "../authoring/can-deploy.js";
import { endpointConfigCanDeployReport } from "../capping/capping-config.schema.js";

const definitions = Object.values(ERRORS);
const distinct = <T>(values: readonly T[]): T[] => [...new Set(values)];

/** The object that `error` holds as a JSON string (CONTRACT §5), with every code of the catalogue. */
export const errorDetail = z
  .object({
    code: z.union([z.int(), z.string()]).meta({
      description: "A number for the seed's operation codes (1456–14468, 4000) and the Capping API's 1451, an `ERR_*` string otherwise.",
      enum: distinct(definitions.map((definition) => definition.code)),
    }),
    family: z.enum(distinct(definitions.map((definition) => definition.family))),
    message: z.string(),
    service: z.literal(SERVICE_NAME),
    version: z.string().meta({ description: "The service version: a short git sha or the package version." }),
    context: z.string().meta({ description: "Where the error was raised (request line, offending fields, ...)." }),
    schema: z.string().optional().meta({
      description: "`throttlingConfigs$<sandboxName>`; absent on code 4000 and when no `x-sandbox-name` was sent.",
    }),
  })
  .meta({ id: "ErrorDetail", description: "Decoded content of the envelope's `error` string." });

export const errorEnvelope = z
  .object({
    status: z.int().meta({ description: "The HTTP status, repeated." }),
    error: z.string().meta({
      description: "A JSON-encoded `ErrorDetail` (a string, exactly as the Throttling API sends it).",
      contentMediaType: "application/json",
      contentSchema: { $ref: "#/components/schemas/ErrorDetail" },
    }),
    requestId: z.string().meta({
      description: "32 alphanumerics, or the caller's `x-request-id`; also sent as the `x-request-id` header.",
      example: "5sgnAYXs8mpswwjAFEIaAU2faQYbtyHc",
    }),
  })
  .meta({ id: "ErrorEnvelope" });

/** A rejected create/update payload: the envelope plus `canDeploy` listing every violated rule (CONTRACT §4). */
export const validationErrorEnvelope = errorEnvelope
  .extend({ canDeploy: canDeployReport })
  .meta({ id: "ValidationErrorEnvelope" });

/** A capping payload refused for its structure, or a deploy of a config with problems: with its canDeploy report. */
export const endpointConfigErrorEnvelope = errorEnvelope
  .extend({ canDeploy: endpointConfigCanDeployReport })
  .meta({ id: "EndpointConfigErrorEnvelope" });

/** A rejected call API request (`ERR_CALL_INVALID`): the envelope plus, for an invalid body, every problem found. */
export const callInvalidEnvelope = errorEnvelope
  .extend({
    errors: z
      .array(
        z.object({
          path: z.string().meta({ description: "The offending field, dotted (`calls.1.url`); `body` for the body itself." }),
          message: z.string(),
        }),
      )
      .optional()
      .meta({ description: "Absent when the body is not JSON or the `Idempotency-Key` header is invalid." }),
  })
  .meta({ id: "CallInvalidEnvelope" });
