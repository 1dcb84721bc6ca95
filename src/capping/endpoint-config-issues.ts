import type { CanDeployIssue } from "../authoring/can-deploy.js";
import type { EndpointConfigWarning } from "./capping-config.schema.js";

// What canDeploy reports of a stored capping config (CONTRACT §12), with Adobe's codes and messages. These are not
// errors the API answers with (those are in the catalogue): a config is stored with them and a deploy refuses it.

const issue = (errorCode: string, error: string): CanDeployIssue => ({ errorCode, error });

export const ENDPOINT_CONFIG_ISSUES = {
  missingUrl: issue("ERR_ENDPOINTCONFIG_100", "capping config: missing or invalid url"),
  malformedUrl: issue("ERR_ENDPOINTCONFIG_101", "capping config: malformed url"),
  wildcardInHost: issue("ERR_ENDPOINTCONFIG_102", "capping config: malformed url: wildchar in url not allowed in host:port"),
  missingMethods: issue("ERR_ENDPOINTCONFIG_103", "capping config: missing HTTP methods"),
  noRating: issue("ERR_ENDPOINTCONFIG_104", "capping config: no call rating defined"),
  invalidMaxCallsCount: issue("ERR_ENDPOINTCONFIG_107", "capping config: invalid max calls count (maxCallsCount)"),
  invalidPeriod: issue("ERR_ENDPOINTCONFIG_108", "capping config: invalid max calls count (periodInMs)"),
} as const;

export const invalidServiceName = (name: string): CanDeployIssue =>
  issue("ERR_AUTHORING_ENDPOINTCONFIG_1", `invalid service name '${name}': must be 'dataSource' or 'action'`);

/** The warning for a service without `maxHttpConnections`, scoped to it. */
export const noMaxHttpConnections = (service: string, url: string): EndpointConfigWarning => ({
  warningCode: "ERR_ENDPOINTCONFIG_106",
  warning: "capping config: max HTTP connections not defined: no limitation by default",
  scope: { endpointConfigService: service, endpointConfigUrl: url },
});
