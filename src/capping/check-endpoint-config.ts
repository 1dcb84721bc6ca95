import { buildCanDeployReport, type CanDeployIssue } from "../authoring/can-deploy.js";
import type { HttpMethod } from "../authoring/http-methods.js";
import { urlPatternProblem } from "../authoring/url-pattern.js";
import { CAPPING_SERVICES, type CappingLimits, type CappingRuntimeValues, type CappingService } from "../runtime/capping-runtimes.js";
import { ApiError } from "../shared/errors/api-error.js";
import {
  maxCallsCount,
  periodInMs,
  type DeployedEndpointConfig,
  type EndpointConfigServices,
  type EndpointConfigValues,
  type EndpointConfigWarning,
} from "./capping-config.schema.js";
import { ENDPOINT_CONFIG_ISSUES as ISSUES, invalidServiceName, noMaxHttpConnections } from "./endpoint-config-issues.js";

/** The runtime's values, with the config's (valid) methods. */
type DeployableValues = CappingRuntimeValues & { methods: HttpMethod[] };

export interface EndpointConfigCheck {
  /** Every problem, each once: what blocks a deploy. */
  issues: CanDeployIssue[];
  warnings: EndpointConfigWarning[];
  /** What a deploy hands the runtime; only when there is no issue. */
  deployable?: DeployableValues;
}

const isCappingService = (name: string): name is CappingService => (CAPPING_SERVICES as readonly string[]).includes(name);

function urlIssues(url: string): CanDeployIssue[] {
  if (url === "") return [ISSUES.missingUrl];
  const problem = urlPatternProblem(url);
  if (!problem) return [];
  return [problem === "wildcardInHost" ? ISSUES.wildcardInHost : ISSUES.malformedUrl];
}

/** A service's issues, and its limits when it has none. */
function checkService(name: string, service: EndpointConfigServices[string]): { issues: CanDeployIssue[]; limits?: CappingLimits } {
  const issues = isCappingService(name) ? [] : [invalidServiceName(name)];
  if (!service.rating) return { issues: [...issues, ISSUES.noRating] };
  const calls = maxCallsCount.safeParse(service.rating.maxCallsCount);
  const period = periodInMs.safeParse(service.rating.periodInMs);
  if (!calls.success) issues.push(ISSUES.invalidMaxCallsCount);
  if (!period.success) issues.push(ISSUES.invalidPeriod);
  if (!calls.success || !period.success || issues.length) return { issues };
  const { maxHttpConnections } = service;
  return {
    issues,
    limits: { maxCallsCount: calls.data, periodInMs: period.data, ...(maxHttpConnections !== undefined ? { maxHttpConnections } : {}) },
  };
}

/** Checks a stored capping config as canDeploy and deploy do (CONTRACT §12): every problem at once. */
export function checkEndpointConfig(config: EndpointConfigValues): EndpointConfigCheck {
  const entries = Object.entries(config.services);
  const issues = [...urlIssues(config.url)];
  if (config.methods.length === 0) issues.push(ISSUES.missingMethods);
  if (entries.length === 0) issues.push(ISSUES.noRating);
  const services: CappingRuntimeValues["services"] = {};
  for (const [name, service] of entries) {
    const checked = checkService(name, service);
    issues.push(...checked.issues);
    if (checked.limits && isCappingService(name)) services[name] = checked.limits;
  }
  const unique = [...new Map(issues.map((issue) => [`${issue.errorCode}|${issue.error}`, issue])).values()];
  const warnings = entries
    .filter(([, service]) => service.maxHttpConnections === undefined)
    .map(([name]) => noMaxHttpConnections(name, config.url));
  if (unique.length) return { issues: unique, warnings };
  return { issues: [], warnings, deployable: { url: config.url, methods: config.methods, services } };
}

/** A deploy of a config with issues: 400 with its canDeploy report (CONTRACT §12). */
export const undeployable = (uid: string, { issues, warnings }: EndpointConfigCheck): ApiError =>
  new ApiError("ENDPOINT_CONFIG_NOT_VALID", { context: `uid ${uid}`, body: { canDeploy: buildCanDeployReport(issues, warnings) } });

/** `deployedConfig`: the runtime's values in the shape of the payload's. */
export function deployedSnapshot({ url, methods, services }: DeployableValues): DeployedEndpointConfig {
  const deployed: DeployedEndpointConfig["services"] = {};
  for (const [name, limits] of Object.entries(services)) {
    if (!limits || !isCappingService(name)) continue;
    const { maxHttpConnections, ...rating } = limits;
    deployed[name] = { ...(maxHttpConnections !== undefined ? { maxHttpConnections } : {}), rating };
  }
  return { url, methods, services: deployed };
}
