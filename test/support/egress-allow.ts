/**
 * EGRESS_ALLOW for exactly the address and port of local sinks (`http://127.0.0.1:<port>`): tests and the benchmark
 * never allow more, so everything that sends proves the egress policy lets through what it should and nothing else.
 */
export const egressAllowFor = (...urls: string[]): { EGRESS_ALLOW: string } => ({
  EGRESS_ALLOW: urls.map((url) => new URL(url)).map(({ hostname, port }) => `${hostname}:${port}`).join(","),
});
