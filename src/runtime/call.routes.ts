import { Router, type Request, type Response } from "express";
import type { z } from "zod";
import type { Db } from "../db/prisma.js";
import { jsonBody } from "../http/middleware/json-body.js";
import { ApiError } from "../shared/errors/api-error.js";
import { authenticate } from "../tenancy/authenticate.js";
import { batchRequest, callRequest } from "./call.schema.js";
import type { CallService } from "./call.service.js";

export const RUNTIME_BASE_PATH = "/runtime";
/** A batch carries up to 1000 calls of up to 1 MB each; the request as a whole may be larger than 1 MB. */
const BATCH_BODY_LIMIT = "32mb";

const invalid = (context: string, errors: { path: string; message: string }[] = []) =>
  new ApiError("CALL_INVALID", { context, body: errors.length ? { errors } : {} });

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({ path: issue.path.join(".") || "body", message: issue.message }));
  throw invalid(errors.map((e) => `${e.path}: ${e.message}`).join("; "), errors);
}

const idempotencyKeyOf = (req: Request): string | undefined => {
  const key = req.get("idempotency-key");
  if (key !== undefined && (key.length === 0 || key.length > 255)) throw invalid("Idempotency-Key must be 1–255 characters");
  return key;
};

const orgOf = (res: Response) => res.locals.principal!.orgId;

/** HTTP glue for the call API (CONTRACT §6): 202 on acceptance; records by id. */
export function callRouter(db: Db, calls: CallService): Router {
  const router = Router();
  const malformed = (detail: string) => invalid(`malformed JSON: ${detail}`);
  router.use(authenticate(db));

  router.post("/calls", jsonBody(malformed), async (req, res) => {
    const [accepted] = await calls.accept(res.locals.principal!, [parse(callRequest, req.body)], idempotencyKeyOf(req));
    res.status(202).json(accepted);
  });

  router.post("/calls/batch", jsonBody(malformed, BATCH_BODY_LIMIT), async (req, res) => {
    const batch = parse(batchRequest, req.body);
    res.status(202).json({ calls: await calls.accept(res.locals.principal!, batch.calls, idempotencyKeyOf(req)) });
  });

  router.get("/calls/:callId", async (req, res) => {
    res.json(await calls.get(orgOf(res), String(req.params["callId"])));
  });

  return router;
}
