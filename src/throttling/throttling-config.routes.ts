import { Router, type Request, type Response } from "express";
import type { Db } from "../db/prisma.js";
import { jsonBody } from "../http/middleware/json-body.js";
import type { RuntimeStatusReader } from "../runtime/runtime-status.js";
import type { ErrorName } from "../shared/errors/catalogue.js";
import { authenticate } from "../tenancy/authenticate.js";
import type { Principal, SandboxRef } from "../tenancy/principal.js";
import { resolveProductionSandbox } from "../tenancy/production-sandbox.js";
import type { ThrottlingConfigService } from "./throttling-config.service.js";
import { toResource } from "./throttling-config.view.js";
import { malformedJson, validatePayload } from "./validate-payload.js";

/** Base paths the authoring API answers on (CONTRACT §1). */
export const AUTHORING_BASE_PATHS = ["/authoring", "/journey/orchestration"] as const;

const caller = (res: Response): { principal: Principal; sandbox: SandboxRef } => ({
  principal: res.locals.principal!,
  sandbox: res.locals.sandbox!,
});

/** Names the code this operation answers with if it fails unexpectedly (seed 1457–1464). */
const failsWith = (code: ErrorName) => (_req: Request, res: Response, next: () => void) => {
  res.locals.unexpectedError = code;
  next();
};

function validBody(req: Request) {
  const validated = validatePayload(req.body);
  if (!validated.ok) throw validated.error;
  return validated.value;
}

const uidOf = (req: Request): string => String(req.params["uid"]);
const uriOf = (req: Request, uid: string) => `${req.baseUrl}/throttlingConfigs/${uid}`;

/** HTTP glue for the eight operations: parse, call the service, shape the response. */
export function throttlingConfigRouter(db: Db, service: ThrottlingConfigService, runtime: RuntimeStatusReader): Router {
  const router = Router();
  router.use(authenticate(db), jsonBody(malformedJson), async (req, res, next) => {
    res.locals.sandbox = await resolveProductionSandbox(db, req, res.locals.principal!.orgId);
    next();
  });

  router.post("/list/throttlingConfigs", async (_req, res) => {
    const configs = await service.list(caller(res).principal.orgId);
    const blocks = await runtime.forConfigs(configs.map((config) => config.uid));
    res.json({ results: configs.map((config) => toResource(config, blocks.get(config.uid))) });
  });

  router.post("/throttlingConfigs", failsWith("CREATE_FAILED"), async (req, res) => {
    const { principal, sandbox } = caller(res);
    const created = await service.create(principal, sandbox, validBody(req));
    res.json({
      canDeploy: await service.canDeployReport(created),
      createdElement: toResource(created),
      uid: created.uid,
      uri: uriOf(req, created.uid),
      resStatus: "created",
    });
  });

  router.get("/throttlingConfigs/:uid", failsWith("GET_FAILED"), async (req, res) => {
    const config = await service.get(caller(res).principal.orgId, uidOf(req));
    res.json({ result: toResource(config, await runtime.forConfig(config.uid)) });
  });

  router.put("/throttlingConfigs/:uid", failsWith("UPDATE_FAILED"), async (req, res) => {
    const { principal } = caller(res);
    const updated = await service.update(principal, uidOf(req), validBody(req));
    res.json({
      updatedElement: toResource(updated),
      uid: updated.uid,
      uri: uriOf(req, updated.uid),
      resStatus: "updated",
      canDeploy: await service.canDeployReport(updated),
    });
  });

  const canDeploy = async (req: Request, res: Response) => {
    res.json({ canDeploy: await service.canDeploy(caller(res).principal.orgId, uidOf(req)) });
  };
  router.route("/throttlingConfigs/:uid/canDeploy").get(canDeploy).post(canDeploy);

  router.post("/throttlingConfigs/:uid/deploy", failsWith("DEPLOY_FAILED"), async (req, res) => {
    await service.deploy(caller(res).principal, uidOf(req));
    res.status(204).end();
  });

  router.post("/throttlingConfigs/:uid/undeploy", failsWith("UNDEPLOY_FAILED"), async (req, res) => {
    await service.undeploy(caller(res).principal, uidOf(req));
    res.status(204).end();
  });

  router.delete("/throttlingConfigs/:uid", failsWith("DELETE_FAILED"), async (req, res) => {
    const force = String(req.query["forceDelete"] ?? "").toLowerCase() === "true";
    await service.remove(caller(res).principal, uidOf(req), force);
    res.json({});
  });

  return router;
}
