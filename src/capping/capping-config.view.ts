import type { HttpMethod } from "../authoring/http-methods.js";
import { metadataOf, resourceId } from "../authoring/metadata.js";
import type { RuntimeStatus } from "../authoring/runtime-status.schema.js";
import type { CappingConfig } from "../generated/prisma/client.js";
import type { DeployedEndpointConfig, EndpointConfigResource, EndpointConfigValues } from "./capping-config.schema.js";

/** The stored values (written from a parsed payload, so of its shape). */
export const storedValues = (row: CappingConfig): EndpointConfigValues => ({
  url: row.url,
  methods: row.methods as HttpMethod[],
  services: row.services as EndpointConfigValues["services"],
});

/**
 * The stored row as the API shows it (CONTRACT §12); absent optional values are omitted, not null. `runtime` is the
 * block GET and list add once the config has been deployed.
 */
export function toEndpointConfigResource(row: CappingConfig, runtime?: RuntimeStatus): EndpointConfigResource {
  return {
    _id: resourceId(row),
    uid: row.uid,
    ...storedValues(row),
    orgId: row.orgId,
    tenantId: row.sandboxName,
    sandboxId: row.sandboxId,
    sandboxName: row.sandboxName,
    // Capping never writes the throttling-only `undeployed`.
    state: row.state as EndpointConfigResource["state"],
    hasBeenDeployed: row.hasBeenDeployed,
    authoringFormatVersion: "1.0",
    ...(row.deployedConfig != null ? { deployedConfig: row.deployedConfig as DeployedEndpointConfig } : {}),
    ...(runtime ? { runtime } : {}),
    metadata: metadataOf(row),
  };
}
