import { lookup, type LookupAddress, type LookupOptions } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { buildConnector } from "undici";
import type { EgressPolicy } from "./policy.js";
import { portOf, type EgressRule } from "./rules.js";

/** A connection the egress policy refused; `message` is what the call record says (`egress_denied: <address>`). */
export class EgressDeniedError extends Error {
  readonly code = "SLUICE_EGRESS_DENIED";

  constructor(
    readonly address: string,
    readonly rule: EgressRule,
  ) {
    super(`egress_denied: ${address}`);
    this.name = "EgressDeniedError";
  }
}

/** The EgressDeniedError behind an undici failure, if the policy caused it. */
export function egressDenial(error: unknown): EgressDeniedError | undefined {
  for (let cause = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (cause instanceof EgressDeniedError) return cause;
  }
  return undefined;
}

/**
 * An undici connector that applies the egress policy to the address each connection actually reaches (CONTRACT
 * §9): an IP literal is checked before dialling; a name is resolved here and only its allowed addresses are dialled
 * (a name with none is refused), so a DNS answer cannot smuggle in a denied address; and the connected socket's
 * peer is checked once more before any byte is written.
 */
export function egressConnector(policy: EgressPolicy): buildConnector.connector {
  // The resolver must know the port (an allow entry may cover only some ports), and undici passes its build
  // options, not the request's, to net.connect: one connector per port.
  const byPort = new Map<number, buildConnector.connector>();
  const connectorFor = (port: number): buildConnector.connector => {
    let connector = byPort.get(port);
    if (!connector) byPort.set(port, (connector = buildConnector({ lookup: guardedLookup(policy, port) })));
    return connector;
  };

  return (options, callback) => {
    const port = portOf(options.protocol, options.port);
    if (isIP(options.hostname)) {
      const verdict = policy.decide(options.hostname, port);
      if (!verdict.allowed) return callback(new EgressDeniedError(options.hostname, verdict.rule), null);
    }
    connectorFor(port)(options, (error, socket) => {
      if (error) return callback(error, null);
      const peer = socket!.remoteAddress;
      const verdict = peer ? policy.decide(peer, port) : undefined;
      if (verdict && !verdict.allowed) {
        socket!.destroy();
        return callback(new EgressDeniedError(peer!, verdict.rule), null);
      }
      callback(null, socket!);
    });
  };
}

function guardedLookup(policy: EgressPolicy, port: number): LookupFunction {
  return (hostname, options: LookupOptions, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "");
      let firstDenial: EgressDeniedError | undefined;
      const allowed = addresses.filter(({ address }) => {
        const verdict = policy.decide(address, port);
        if (!verdict.allowed) firstDenial ??= new EgressDeniedError(address, verdict.rule);
        return verdict.allowed;
      });
      if (allowed.length === 0) return callback(firstDenial ?? new Error(`no address for ${hostname}`), "");
      if (options.all) return callback(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
