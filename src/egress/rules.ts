import ipaddr from "ipaddr.js";
import { unbracketed } from "../shared/url-host.js";

export type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** One entry of the egress policy: a CIDR range, optionally limited to a port range. */
export interface EgressRule {
  readonly range: [Address, number];
  /** Inclusive; absent: every port. */
  readonly ports?: readonly [number, number];
  /** What the range is, for error messages: "loopback", or the entry as written in EGRESS_ALLOW/EGRESS_DENY. */
  readonly label: string;
  /** The entry as text, e.g. `127.0.0.0/8` or `127.0.0.1:8000-8999`. */
  readonly text: string;
}

const ALL_PORTS = 65_536;

/** How many ports a rule covers (narrower is more specific). */
export const portWidth = (rule: EgressRule): number => (rule.ports ? rule.ports[1] - rule.ports[0] + 1 : ALL_PORTS);

/**
 * Addresses no tenant may reach unless EGRESS_ALLOW says so (CONTRACT §9). IPv4-mapped, IPv4-compatible and
 * NAT64 forms of IPv4 addresses are checked as the IPv4 address they carry (see `canonicalAddress`).
 */
const DEFAULT_DENY: readonly [string, string][] = [
  ["127.0.0.0/8", "loopback"],
  ["::1/128", "loopback"],
  ["0.0.0.0/8", "unspecified"],
  ["::/128", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["172.16.0.0/12", "private"],
  ["192.168.0.0/16", "private"],
  ["100.64.0.0/10", "shared address space"],
  ["169.254.0.0/16", "link-local (cloud metadata)"],
  ["fe80::/10", "link-local (cloud metadata)"],
  ["fec0::/10", "site-local"],
  ["fc00::/7", "unique local"],
  ["224.0.0.0/3", "multicast and reserved"],
  ["ff00::/8", "multicast"],
  ["198.18.0.0/15", "benchmarking"],
  ["192.0.0.0/24", "IETF protocol assignments"],
];

export const DEFAULT_DENY_RULES: readonly EgressRule[] = DEFAULT_DENY.map(([cidr, label]) => ({
  range: canonicalRange(ipaddr.parseCIDR(cidr)),
  label,
  text: cidr,
}));

/**
 * The address a connection really reaches: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) and
 * NAT64 (`64:ff9b::a.b.c.d`) IPv6 addresses are the IPv4 address they embed, so every deny rule written for IPv4
 * covers them too.
 */
export function canonicalAddress(address: Address): Address {
  if (address.kind() === "ipv4") return address;
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const [a, b, c, d, e, f, g, h] = v6.parts as [number, number, number, number, number, number, number, number];
  const embedsV4 = (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0 && (g !== 0 || h > 1)) ||
    (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0);
  return embedsV4 ? new ipaddr.IPv4([g >> 8, g & 0xff, h >> 8, h & 0xff]) : v6;
}

function canonicalRange([address, prefix]: [Address, number]): [Address, number] {
  const canonical = canonicalAddress(address);
  return canonical === address ? [address, prefix] : [canonical, Math.max(0, prefix - 96)];
}


/** The port a connection to `protocol` (`http:`/`https:`) uses when `port` is empty. */
export const portOf = (protocol: string, port: string): number => Number(port) || (protocol === "https:" ? 443 : 80);

/** Parses an IP literal as it appears in a URL host, an EGRESS_* entry or a socket (brackets and zone allowed). */
export function parseAddress(text: string): Address | undefined {
  const bare = unbracketed(text);
  return ipaddr.isValid(bare) ? canonicalAddress(ipaddr.parse(bare)) : undefined;
}

const PORT = /^\d{1,5}$/;

function parsePorts(text: string): [number, number] | undefined {
  const [low, high = low] = text.split("-") as [string, string?];
  if (!PORT.test(low) || !PORT.test(high!)) return undefined;
  const range: [number, number] = [Number(low), Number(high)];
  return range[0] >= 1 && range[1] <= 65_535 && range[0] <= range[1] ? range : undefined;
}

/**
 * One EGRESS_ALLOW/EGRESS_DENY entry: `<ip or CIDR>`, `<ip or CIDR>:<port>` or `<ip or CIDR>:<low>-<high>`.
 * An IPv6 range with ports is written in brackets: `[::1]:8080`, `[fd00::/8]:443`.
 */
export function parseRule(entry: string): EgressRule | undefined {
  const text = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::(.+))?$/.exec(text);
  const colons = text.split(":").length - 1;
  const [rangeText, portText] = bracketed
    ? [bracketed[1]!, bracketed[2]]
    : colons === 1
      ? (text.split(":") as [string, string])
      : [text, undefined];
  const cidr = rangeText.includes("/") ? rangeText : `${rangeText}/${rangeText.includes(":") ? 128 : 32}`;
  if (!ipaddr.isValidCIDR(cidr)) return undefined;
  const ports = portText === undefined ? undefined : parsePorts(portText);
  if (portText !== undefined && !ports) return undefined;
  return { range: canonicalRange(ipaddr.parseCIDR(cidr)), ...(ports ? { ports } : {}), label: text, text };
}

/** A comma-separated EGRESS_ALLOW/EGRESS_DENY value; the entries it could not parse are listed in `invalid`. */
export function parseRules(value: string): { rules: EgressRule[]; invalid: string[] } {
  const rules: EgressRule[] = [];
  const invalid: string[] = [];
  for (const entry of value.split(",").map((e) => e.trim()).filter(Boolean)) {
    const rule = parseRule(entry);
    if (rule) rules.push(rule);
    else invalid.push(entry);
  }
  return { rules, invalid };
}

/** Whether `rule` covers `address` (canonical) on `port`. */
export function covers(rule: EgressRule, address: Address, port: number): boolean {
  const [base] = rule.range;
  if (base.kind() !== address.kind() || !address.match(rule.range)) return false;
  return !rule.ports || (port >= rule.ports[0] && port <= rule.ports[1]);
}
