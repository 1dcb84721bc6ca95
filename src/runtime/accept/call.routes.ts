import { Router, type Request, type Response } from "express";
import type { z } from "zod";
import type { Db } from "../../db/prisma.js";
import { jsonBody } from "../../http/middleware/json-body.js";
import { authenticate } from "../../tenancy/authenticate.js";
import { BATCH_BODY_LIMIT, invalidIdempotencyKey, malformedCallJson, rejectedCallBody } from "./call-errors.js";
import { batchRequest, callListQuery, callRequest } from "./call.schema.js";
import type { CallService } from "./call.service.js";

export const RUNTIME_BASE_PATH = "/runtime";
function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw rejectedCallBody(result.error.issues);
}

const idempotencyKeyOf = (req: Request): string | undefined => {
  const key = req.get("idempotency-key");
  if (key !== undefined && (key.length === 0 || key.length > 255)) throw invalidIdempotencyKey();
  return key;
};

const orgOf = (res: Response) => res.locals.principal!.orgId;

/** HTTP glue for the call API (CONTRACT §6, §10): 202 on acceptance and replay; records by id and listed. */
export function callRouter(db: Db, calls: CallService): Router {
  const router = Router();
  router.use(authenticate(db));

  router.post("/calls", jsonBody(malformedCallJson), async (req, res) => {
    const submission = { calls: [parse(callRequest, req.body)], batch: false, idempotencyKey: idempotencyKeyOf(req) };
    const [accepted] = await calls.accept(res.locals.principal!, submission);
    res.status(202).json(accepted);
  });

  router.post("/calls/batch", jsonBody(malformedCallJson, BATCH_BODY_LIMIT), async (req, res) => {
    const submission = { calls: parse(batchRequest, req.body).calls, batch: true, idempotencyKey: idempotencyKeyOf(req) };
    res.status(202).json({ calls: await calls.accept(res.locals.principal!, submission) });
  });

  router.get("/calls", async (req, res) => {
    res.json(await calls.list(orgOf(res), parse(callListQuery, req.query)));
  });

  router.get("/calls/:callId", async (req, res) => {
    res.json(await calls.get(orgOf(res), String(req.params["callId"])));
  });

  router.post("/calls/:callId/replay", async (req, res) => {
    res.status(202).json(await calls.replay(res.locals.principal!, String(req.params["callId"])));
  });

  return router;
}
