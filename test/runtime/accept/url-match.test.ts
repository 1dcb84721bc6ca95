import { describe, expect, it } from "vitest";
import { compileMatcher, wildcardMatcher } from "../../../src/runtime/accept/url-match.js";

const ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

type Case = [pattern: string, methods: readonly string[], method: string, url: string, expected: boolean];

const cases: Case[] = [
  // wildcard at the end
  ["https://a.com/v1/*", ALL, "GET", "https://a.com/v1/users", true],
  ["https://a.com/v1/*", ALL, "GET", "https://a.com/v1/", true],
  ["https://a.com/v1/*", ALL, "GET", "https://a.com/v1", false],
  ["https://a.com/v1/*", ALL, "GET", "https://a.com/v2/users", false],
  // wildcard at the start of the path
  ["https://a.com/*/items", ALL, "GET", "https://a.com/x/items", true],
  ["https://a.com/*/items", ALL, "GET", "https://a.com/x/y/z/items", true],
  ["https://a.com/*/items", ALL, "GET", "https://a.com/x/items/1", false],
  // wildcard in the middle, inside a segment, and the empty run
  ["https://a.com/v1/*/items", ALL, "GET", "https://a.com/v1/42/items", true],
  ["https://a.com/v1/*/items", ALL, "GET", "https://a.com/v1//items", true],
  ["https://a.com/v1/*/items", ALL, "GET", "https://a.com/v1/a/b/items", true],
  ["https://a.com/v1/user*/items", ALL, "GET", "https://a.com/v1/user/items", true],
  ["https://a.com/v1/user*/items", ALL, "GET", "https://a.com/v1/users/items", true],
  ["https://a.com/v1/user*/items", ALL, "GET", "https://a.com/v1/admin/items", false],
  // several wildcards
  ["https://a.com/*/orders/*", ALL, "GET", "https://a.com/c/9/orders/1/lines", true],
  ["https://a.com/*/orders/*", ALL, "GET", "https://a.com/c/9/order/1", false],
  ["https://a.com/a*b*c", ALL, "GET", "https://a.com/abc", true],
  ["https://a.com/a*b*c", ALL, "GET", "https://a.com/a/x/b/y/c", true],
  ["https://a.com/a*b*c", ALL, "GET", "https://a.com/acb", false],
  ["https://a.com/**", ALL, "GET", "https://a.com/", true],
  // regex metacharacters are literal
  ["https://a.com/data/2.5/*", ALL, "GET", "https://a.com/data/2.5/weather", true],
  ["https://a.com/data/2.5/*", ALL, "GET", "https://a.com/data/215/weather", false],
  ["https://a.com/a+b", ALL, "GET", "https://a.com/a+b", true],
  ["https://a.com/a+b", ALL, "GET", "https://a.com/aab", false],
  ["https://a.com/f(x)/$1", ALL, "GET", "https://a.com/f(x)/$1", true],
  ["https://a.com/f(x)/$1", ALL, "GET", "https://a.com/fx/$1", false],
  ["https://a.com/^a|b", ALL, "GET", "https://a.com/b", false],
  ["https://a.com/^a|b", ALL, "GET", "https://a.com/^a|b", true],
  // both sides normalized by the URL parser
  ["https://a.com/caf\u00e9/*", ALL, "GET", "https://a.com/caf%C3%A9/menu", true],
  ["https://a.com/a b/*", ALL, "GET", "https://a.com/a%20b/c", true],
  ["https://a.com/x/*", ALL, "GET", "https://a.com/y/../x/z", true],
  // a pattern without a path matches only "/"
  ["https://a.com", ALL, "GET", "https://a.com", true],
  ["https://a.com", ALL, "GET", "https://a.com/", true],
  ["https://a.com", ALL, "GET", "https://a.com/x", false],
  // host is case-insensitive, and must be equal
  ["https://API.Example.com/v1/*", ALL, "GET", "https://api.example.COM/v1/x", true],
  ["https://a.com/v1/*", ALL, "GET", "https://b.a.com/v1/x", false],
  ["https://a.com/v1/*", ALL, "GET", "https://a.com.evil.org/v1/x", false],
  // path is case-sensitive
  ["https://a.com/v1/*", ALL, "GET", "https://a.com/V1/x", false],
  // ports: default ports implied, other ports differ
  ["https://a.com/*", ALL, "GET", "https://a.com:443/x", true],
  ["https://a.com:443/*", ALL, "GET", "https://a.com/x", true],
  ["http://a.com:80/*", ALL, "GET", "http://a.com/x", true],
  ["https://a.com/*", ALL, "GET", "https://a.com:8443/x", false],
  ["https://a.com:8443/*", ALL, "GET", "https://a.com/x", false],
  ["https://a.com:8443/*", ALL, "GET", "https://a.com:8443/x", true],
  // scheme must be equal
  ["https://a.com/*", ALL, "GET", "http://a.com/x", false],
  ["http://a.com/*", ALL, "GET", "https://a.com/x", false],
  ["HTTPS://a.com/*", ALL, "GET", "https://a.com/x", true],
  // query string and fragment of the call are ignored
  ["https://a.com/v1/items", ALL, "GET", "https://a.com/v1/items?page=2&x=*", true],
  ["https://a.com/v1/items", ALL, "GET", "https://a.com/v1/items#top", true],
  ["https://a.com/v1/*s", ALL, "GET", "https://a.com/v1/item?q=s", false],
  // methods: case-insensitive, must be listed
  ["https://a.com/*", ["POST"], "post", "https://a.com/x", true],
  ["https://a.com/*", ["POST"], "POST", "https://a.com/x", true],
  ["https://a.com/*", ["POST"], "GET", "https://a.com/x", false],
  ["https://a.com/*", ["get", "PUT"], "Get", "https://a.com/x", true],
  ["https://a.com/*", ["GET", "PUT"], "DELETE", "https://a.com/x", false],
];

describe("compileMatcher", () => {
  it.each(cases)("%s %j: %s %s → %s", (pattern, methods, method, url, expected) => {
    expect(compileMatcher(pattern, methods)(method, new URL(url))).toBe(expected);
  });

  it("reuses one compiled matcher for many calls", () => {
    const matches = compileMatcher("https://a.com/v1/*/items", ["GET"]);
    expect(matches("GET", new URL("https://a.com/v1/1/items"))).toBe(true);
    expect(matches("GET", new URL("https://a.com/v1/2/other"))).toBe(false);
    expect(matches("GET", new URL("https://a.com/v1/3/items"))).toBe(true);
  });

  it("throws on an unparsable pattern", () => {
    expect(() => compileMatcher("not a url", ["GET"])).toThrow(TypeError);
  });
});

describe("wildcardMatcher: the path rule on its own", () => {
  it.each([
    ["", "", true],
    ["*", "", true],
    ["*", "anything/at/all", true],
    ["a*", "a", true],
    ["*a", "ba", true],
    ["*a", "ab", false],
    ["a*a", "a", false],
    ["a*a", "aa", true],
    ["ab*ab", "abab", true],
    ["ab*ab", "aba", false],
    ["*aab*", "aaab", true],
    ["*abcabd*", "abcabcabd", true],
    ["*abcabd*", "abcabcab", false],
    ["a*b*c*d", "a-c-b-d", false],
    ["a*b*c*d", "a-b-b-c-d", true],
    ["*x*x*x*", "xx", false],
    ["***", "", true],
  ])("%j against %j → %s", (pattern, text, expected) => {
    expect(wildcardMatcher(pattern)(text)).toBe(expected);
  });
});

describe("matching time is linear in the pattern and the path (CONTRACT §11)", () => {
  const elapsedMs = (work: () => void): number => {
    const start = performance.now();
    work();
    return performance.now() - start;
  };

  it("the pattern that froze the process for 54 s, against a 46-character path, is answered in under 10 ms", () => {
    const matches = compileMatcher("http://127.0.0.1:3000/*a*a*a*a*a*a*a*a*a*b", ["GET", "POST"]);
    const url = new URL(`http://127.0.0.1:3000/${"a".repeat(45)}`);
    let result = true;
    expect(elapsedMs(() => (result = matches("GET", url)))).toBeLessThan(10);
    expect(result).toBe(false);
  });

  it("a 2,048-character pattern of stars and near-misses against an 8 KB path, in under 10 ms", () => {
    const pattern = `https://a.com/${"*a".repeat(1015)}*b`;
    expect(pattern.length).toBeLessThanOrEqual(2048);
    const matches = compileMatcher(pattern, ["GET"]);
    const miss = new URL(`https://a.com/${"a".repeat(8000)}`);
    const hit = new URL(`https://a.com/${"a".repeat(8000)}b`);
    expect(elapsedMs(() => expect(matches("GET", miss)).toBe(false))).toBeLessThan(10);
    expect(elapsedMs(() => expect(matches("GET", hit)).toBe(true))).toBeLessThan(10);
  });

  it("a long literal with a self-overlapping prefix (the worst case for a naive search)", () => {
    const literal = `${"a".repeat(1000)}b`;
    const matches = wildcardMatcher(`*${literal}*`);
    expect(elapsedMs(() => expect(matches("a".repeat(8000))).toBe(false))).toBeLessThan(10);
    expect(matches(`${"a".repeat(5000)}b`)).toBe(true);
  });
});
