import { isIP } from "node:net";
import { covers, DEFAULT_DENY_RULES, parseAddress, portOf, portWidth, type EgressRule } from "./rules.js";
import { unbracketed } from "../shared/url-host.js";

export type EgressDenial = { allowed: false; rule: EgressRule };
export type EgressVerdict = { allowed: true } | EgressDenial;

export interface EgressPolicyOptions {
  /** EGRESS_ALLOW: reachable even where the deny list covers them. */
  allow?: readonly EgressRule[];
  /** EGRESS_DENY: added to the default deny list. */
  deny?: readonly EgressRule[];
  /** OUTBOUND_PROXY_URL is set: the policy applies to the proxy's address only, not to the calls' hosts. */
  viaProxy?: boolean;
}

/** Whether `a` is more specific than `b`: a longer prefix, or the same prefix and fewer ports. */
const moreSpecific = (a: EgressRule, b: EgressRule): boolean =>
  a.range[1] > b.range[1] || (a.range[1] === b.range[1] && portWidth(a) < portWidth(b));

function mostSpecific(rules: readonly EgressRule[], address: NonNullable<ReturnType<typeof parseAddress>>, port: number) {
  let best: EgressRule | undefined;
  for (const rule of rules) if (covers(rule, address, port) && (!best || moreSpecific(rule, best))) best = rule;
  return best;
}

/**
 * Which addresses Sluice may connect to on its tenants' behalf (CONTRACT §9): everything but the deny list
 * (defaults plus EGRESS_DENY), except what EGRESS_ALLOW lets through; a deny entry beats an allow entry only when
 * it is more specific.
 */
export class EgressPolicy {
  private readonly allow: readonly EgressRule[];
  private readonly deny: readonly EgressRule[];
  readonly viaProxy: boolean;

  constructor(options: EgressPolicyOptions = {}) {
    this.allow = options.allow ?? [];
    this.deny = [...DEFAULT_DENY_RULES, ...(options.deny ?? [])];
    this.viaProxy = options.viaProxy ?? false;
  }

  /** The verdict for a connection to the IP address `ip` (any notation Node or a URL host uses) on `port`. */
  decide(ip: string, port: number): EgressVerdict {
    const address = parseAddress(ip);
    if (!address) throw new TypeError(`not an IP address: ${ip}`);
    const denied = mostSpecific(this.deny, address, port);
    if (!denied) return { allowed: true };
    const allowed = mostSpecific(this.allow, address, port);
    return allowed && !moreSpecific(denied, allowed) ? { allowed: true } : { allowed: false, rule: denied };
  }

  /**
   * The acceptance-time check of a call or callback URL (WHATWG-parsed): a host that is an IP literal, or
   * `localhost`, and that the policy denies gets the reason; any other host is checked when it is connected to.
   */
  refusal(url: URL): string | undefined {
    if (this.viaProxy) return undefined;
    const port = portOf(url.protocol, url.port);
    const host = unbracketed(url.hostname);
    const candidates = isIP(host) ? [host] : isLocalhost(host) ? ["127.0.0.1", "::1"] : [];
    const denials = candidates.map((ip) => this.decide(ip, port)).filter((verdict): verdict is EgressDenial => !verdict.allowed);
    if (denials.length === 0 || denials.length < candidates.length) return undefined;
    const { rule } = denials[0]!;
    return `${url.hostname} on port ${port} is ${rule.label} (${rule.text}), which the egress policy denies`;
  }
}

/** `localhost` and its subdomains always resolve to loopback (RFC 6761). */
const isLocalhost = (host: string): boolean => /(^|\.)localhost\.?$/i.test(host);
