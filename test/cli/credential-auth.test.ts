import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/test-app.js";
import { cliEnvOf, sluiceOk } from "./cli-process.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const ORG = "CLIAUTH@AdobeOrg";

describe("a credential issued by the CLI", () => {
  it("authenticates against the real API until it is revoked", async () => {
    const url = cliEnvOf(app);
    await sluiceOk(url, "org", "create", ORG);
    await sluiceOk(url, "sandbox", "create", ORG, "prod", "--type", "production");
    const { clientId, token } = await sluiceOk<{ clientId: string; token: string }>(url, "credential", "create", ORG, "--name", "ci");
    const list = () =>
      app.request().post("/authoring/list/throttlingConfigs").set({
        Authorization: `Bearer ${token}`,
        "x-api-key": clientId,
        "x-gw-ims-org-id": ORG,
        "x-sandbox-name": "prod",
      });

    const before = await list();
    expect(before.status).toBe(200);
    expect(before.body.results).toEqual([]);

    expect(await sluiceOk(url, "credential", "revoke", clientId)).toEqual({ clientId, revoked: true });
    expect((await list()).status).toBe(401);
    const [listed] = await sluiceOk<{ revokedAt: string | null }[]>(url, "credential", "list", ORG);
    expect(listed?.revokedAt).not.toBeNull();
  });
});
