import { describe, expect, it } from "vitest";
import { urlPatternViolation } from "../../src/throttling/url-pattern.js";

describe("urlPatternViolation", () => {
  it.each([
    "https://api.example.org/data/2.5/*",
    "http://api.example.org",
    "https://api.example.org:8443/*/items/*",
    "HTTPS://API.EXAMPLE.ORG/x",
    "https://127.0.0.1:9000/",
    "https://api.example.org/".padEnd(2048, "x"),
  ])("accepts %s", (pattern) => {
    expect(urlPatternViolation(pattern)).toBeUndefined();
  });

  it.each([
    ["http*://api.example.org/x", "scheme"],
    ["https://*.example.org/x", "host"],
    ["https://api.*/x", "host"],
    ["https://api.example.org:*/x", "port"],
    ["*://api.example.org/x", "scheme"],
  ])("rejects %s (wildcard in %s) with 105", (pattern) => {
    expect(urlPatternViolation(pattern)).toBe("CONFIG_WILDCARD_IN_HOST");
  });

  it.each([
    "/relative/path",
    "api.example.org/x",
    "ftp://api.example.org/x",
    "https://api.example.org/x?q=1",
    "https://api.example.org/x#frag",
    "https://api.example.org/a b",
    "https://api.example.org/x\t",
    "https://user:pw@api.example.org/x",
    "https:///x",
    "https://exa mple.org/",
    "",
    "https://api.example.org/".padEnd(2049, "x"),
  ])("rejects %j with 104", (pattern) => {
    expect(urlPatternViolation(pattern)).toBe("CONFIG_MALFORMED_URL_PATTERN");
  });
});
