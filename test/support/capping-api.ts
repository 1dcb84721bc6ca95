import type supertest from "supertest";
import type { TestContext } from "./test-app.js";

/** A deployable capping config: 20 calls per 2 s and at most 5 in flight, for custom actions. */
export const ENDPOINT_CONFIG = {
  url: "https://api.example.org/data/2.5/*",
  methods: ["GET", "POST"],
  services: { action: { maxHttpConnections: 5, rating: { maxCallsCount: 20, periodInMs: 2000 } } },
};

/**
 * The Capping API's eight operations as the tenant of `ctx` calls them, under `base`; each answers the raw response.
 * Pass `{ app: ctx.app, tenant: otherTenant }` to act as another org, and `headers` to send other headers.
 */
export function cappingApi(ctx: TestContext, base = "/authoring", headers = () => ctx.tenant.headers()) {
  const send = (test: supertest.Test) => test.set(headers());
  const path = (uid: string, suffix = "") => `${base}/endpointConfigs/${uid}${suffix}`;
  return {
    path,
    list: () => send(ctx.app.request().post(`${base}/list/endpointConfigs`)),
    create: (body: unknown) => send(ctx.app.request().post(`${base}/endpointConfigs`)).send(body as object),
    get: (uid: string) => send(ctx.app.request().get(path(uid))),
    update: (uid: string, body: unknown) => send(ctx.app.request().put(path(uid))).send(body as object),
    canDeploy: (uid: string, method: "get" | "post" = "get") => send(ctx.app.request()[method](path(uid, "/canDeploy"))),
    deploy: (uid: string) => send(ctx.app.request().post(path(uid, "/deploy"))),
    undeploy: (uid: string) => send(ctx.app.request().post(path(uid, "/undeploy"))),
    remove: (uid: string, force = false) => send(ctx.app.request().delete(path(uid, force ? "?forceDelete=true" : ""))),
  };
}
