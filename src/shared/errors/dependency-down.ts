// Errors that mean Postgres or Redis cannot be reached (answered with 503 + Retry-After), as opposed
// to a failed statement (answered with the operation's "unexpected error" code).
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "TlsConnectionError",
]);
// Postgres SQLSTATE classes 08 (connection exception) and 57P0x (server shutting down / not ready).
const PG_STATE = /^(08...|57P0[1-4])$/;
// Redis replies that mean "not now" rather than "wrong command": out of memory, loading, a replica, a failover.
const REDIS_UNAVAILABLE = /^(OOM|LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY) /;
// What the ioredis cluster client says while it cannot reach the cluster or follow a failover.
const CLUSTER_UNREACHABLE = /Failed to refresh slots cache|None of startup nodes is available|Too many Cluster redirections/;

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  kind?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: unknown };
}

function matches(error: ErrorLike): boolean {
  const code = typeof error.code === "string" ? error.code : "";
  return (
    NETWORK_CODES.has(code) ||
    PRISMA_CODES.has(code) ||
    PG_STATE.test(code) ||
    (typeof error.kind === "string" && ADAPTER_KINDS.has(error.kind)) ||
    error.name === "MaxRetriesPerRequestError" ||
    (typeof error.message === "string" &&
      (/Connection terminated|Connection is closed|connect ECONNREFUSED/.test(error.message) ||
        REDIS_UNAVAILABLE.test(error.message) ||
        CLUSTER_UNREACHABLE.test(error.message)))
  );
}

export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 5) return false;
  const candidate = error as ErrorLike;
  return (
    matches(candidate) ||
    isDependencyUnavailable(candidate.cause, depth + 1) ||
    isDependencyUnavailable(candidate.meta?.driverAdapterError, depth + 1)
  );
}
