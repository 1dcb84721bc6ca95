import { expect } from "vitest";
import type { Tenant } from "./test-app.js";

/** The server-owned fields of a config `tenant` just created in its production sandbox (CONTRACT §2, §3), as matchers. */
export const justCreatedBy = (tenant: Tenant) => ({
  orgId: tenant.orgId,
  sandboxId: tenant.prodSandbox.id,
  sandboxName: tenant.prodSandbox.name,
  state: "created",
  hasBeenDeployed: false,
  authoringFormatVersion: "1.0",
  metadata: {
    createdBy: tenant.credentialName,
    createdById: tenant.clientId,
    createdAt: expect.any(String),
    lastModifiedBy: tenant.credentialName,
    lastModifiedById: tenant.clientId,
    lastModifiedAt: expect.any(String),
  },
});
