import { describe, expect, it } from "vitest";
import { EgressPolicy } from "../../src/egress/policy.js";
import { parseRules } from "../../src/egress/rules.js";

const policy = (allow = "", deny = "") => new EgressPolicy({ allow: parseRules(allow).rules, deny: parseRules(deny).rules });
const allowed = (p: EgressPolicy, ip: string, port = 80) => p.decide(ip, port).allowed;
const deniedBy = (p: EgressPolicy, ip: string, port = 80) => {
  const verdict = p.decide(ip, port);
  return verdict.allowed ? undefined : verdict.rule.text;
};

describe("the default deny list (CONTRACT §9)", () => {
  const defaults = policy();

  it.each([
    ["127.0.0.1", "127.0.0.0/8"],
    ["127.255.255.254", "127.0.0.0/8"],
    ["::1", "::1/128"],
    ["0.0.0.0", "0.0.0.0/8"],
    ["0.1.2.3", "0.0.0.0/8"],
    ["::", "::/128"],
    ["10.1.2.3", "10.0.0.0/8"],
    ["172.16.0.1", "172.16.0.0/12"],
    ["172.31.255.255", "172.16.0.0/12"],
    ["192.168.1.1", "192.168.0.0/16"],
    ["100.64.0.1", "100.64.0.0/10"],
    ["100.127.255.255", "100.64.0.0/10"],
    ["169.254.169.254", "169.254.0.0/16"],
    ["fe80::1", "fe80::/10"],
    ["fe80::1%eth0", "fe80::/10"],
    ["fd00::1", "fc00::/7"],
    ["fc00::1", "fc00::/7"],
    ["224.0.0.1", "224.0.0.0/3"],
    ["240.0.0.1", "224.0.0.0/3"],
    ["255.255.255.255", "224.0.0.0/3"],
    ["ff02::1", "ff00::/8"],
    ["198.18.0.1", "198.18.0.0/15"],
    ["198.19.255.255", "198.18.0.0/15"],
    ["192.0.0.8", "192.0.0.0/24"],
  ])("denies %s (%s)", (ip, rule) => {
    expect(deniedBy(defaults, ip)).toBe(rule);
  });

  it.each([
    ["::ffff:127.0.0.1", "127.0.0.0/8"],
    ["::ffff:7f00:1", "127.0.0.0/8"],
    ["::ffff:169.254.169.254", "169.254.0.0/16"],
    ["::ffff:10.0.0.1", "10.0.0.0/8"],
    ["::127.0.0.1", "127.0.0.0/8"],
    ["::a9fe:a9fe", "169.254.0.0/16"],
    ["64:ff9b::10.0.0.1", "10.0.0.0/8"],
  ])("denies the IPv4-mapped, -compatible or NAT64 form %s as the IPv4 address it carries (%s)", (ip, rule) => {
    expect(deniedBy(defaults, ip)).toBe(rule);
  });

  it.each(["93.184.216.34", "8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "198.20.0.1", "192.0.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"])(
    "allows the public address %s",
    (ip) => {
      expect(allowed(defaults, ip)).toBe(true);
    },
  );
});

describe("EGRESS_ALLOW and EGRESS_DENY", () => {
  it("an allowed address and port goes through the deny list; other ports and addresses of the range do not", () => {
    const p = policy("127.0.0.1:8000-8999,10.1.2.0/24");
    expect(allowed(p, "127.0.0.1", 8000)).toBe(true);
    expect(allowed(p, "127.0.0.1", 8999)).toBe(true);
    expect(allowed(p, "127.0.0.1", 7999)).toBe(false);
    expect(allowed(p, "127.0.0.1", 9000)).toBe(false);
    expect(allowed(p, "127.0.0.2", 8000)).toBe(false);
    expect(allowed(p, "10.1.2.200", 5432)).toBe(true);
    expect(allowed(p, "10.1.3.1", 80)).toBe(false);
    expect(allowed(p, "::ffff:10.1.2.3", 80)).toBe(true);
  });

  it("a deny entry beats an allow entry only when it is more specific: a longer prefix, or fewer ports", () => {
    const p = policy("127.0.0.1:8000-8999,10.0.0.0/8", "127.0.0.1:8500,10.9.0.0/16,10.0.0.0/8");
    expect(allowed(p, "127.0.0.1", 8499)).toBe(true);
    expect(deniedBy(p, "127.0.0.1", 8500)).toBe("127.0.0.1:8500");
    expect(deniedBy(p, "10.9.1.1")).toBe("10.9.0.0/16");
    // Same prefix, same ports: the allow entry wins.
    expect(allowed(p, "10.8.1.1")).toBe(true);
  });

  it("an allow entry wider than a default range does not open it", () => {
    const p = policy("0.0.0.0/0");
    expect(allowed(p, "8.8.8.8")).toBe(true);
    expect(deniedBy(p, "127.0.0.1")).toBe("127.0.0.0/8");
  });

  it("EGRESS_DENY also narrows the public internet", () => {
    const p = policy("", "203.0.113.0/24:443");
    expect(deniedBy(p, "203.0.113.7", 443)).toBe("203.0.113.0/24:443");
    expect(allowed(p, "203.0.113.7", 80)).toBe(true);
  });

  it("IPv6 entries, with ports in brackets", () => {
    const p = policy("[::1]:8080,fd00::/8,[fe80::/10]:443");
    expect(allowed(p, "::1", 8080)).toBe(true);
    expect(allowed(p, "::1", 8081)).toBe(false);
    expect(allowed(p, "fd12::1", 1)).toBe(true);
    expect(allowed(p, "fe80::1", 443)).toBe(true);
    expect(allowed(p, "fe80::1", 80)).toBe(false);
  });

  it("refuses entries it cannot parse, naming them", () => {
    expect(parseRules("10.0.0.0/8, nonsense ,127.0.0.1:0,127.0.0.1:9-8,127.0.0.1:70000,1.2.3.4/33,::1:80").invalid).toEqual([
      "nonsense",
      "127.0.0.1:0",
      "127.0.0.1:9-8",
      "127.0.0.1:70000",
      "1.2.3.4/33",
    ]);
    expect(parseRules(" ").rules).toEqual([]);
  });
});

describe("the acceptance-time check of a URL (CONTRACT §9)", () => {
  const defaults = policy();
  const refusal = (p: EgressPolicy, url: string) => p.refusal(new URL(url));

  it.each([
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0x7f.0.0.1/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/",
    "http://[fd00::1]/",
    "http://0.0.0.0/",
    "http://localhost/",
    "http://LOCALHOST:3000/",
    "http://localhost./",
    "http://api.localhost/",
  ])("refuses %s, naming the rule", (url) => {
    expect(refusal(defaults, url)).toMatch(/is (loopback|unspecified|private|link-local|unique local).*\(.+\), which the egress policy denies/);
  });

  it("names the range and the port", () => {
    expect(refusal(defaults, "http://169.254.169.254/")).toBe(
      "169.254.169.254 on port 80 is link-local (cloud metadata) (169.254.0.0/16), which the egress policy denies",
    );
    expect(refusal(defaults, "https://[fd00::1]/")).toContain("on port 443");
  });

  it("leaves host names to the connect-time check, and accepts public literals", () => {
    expect(refusal(defaults, "https://api.example.org/")).toBeUndefined();
    expect(refusal(defaults, "http://8.8.8.8/")).toBeUndefined();
  });

  it("accepts what EGRESS_ALLOW allows, localhost included when one of its addresses is allowed", () => {
    const p = policy("127.0.0.1:8000-8999");
    expect(refusal(p, "http://127.0.0.1:8080/")).toBeUndefined();
    expect(refusal(p, "http://localhost:8080/")).toBeUndefined();
    expect(refusal(p, "http://localhost:9000/")).toBeDefined();
  });

  it("is off behind OUTBOUND_PROXY_URL: the policy then applies to the proxy only", () => {
    expect(new EgressPolicy({ viaProxy: true }).refusal(new URL("http://127.0.0.1/"))).toBeUndefined();
  });
});
