import { describe, expect, it } from "vitest";
import { urlPatternProblem } from "../../src/authoring/url-pattern.js";

describe("urlPatternProblem", () => {
  it.each([
    "https://api.example.org/data/2.5/*",
    "http://api.example.org",
    "https://api.example.org:8443/*/items/*",
    "HTTPS://API.EXAMPLE.ORG/x",
    "https://127.0.0.1:9000/",
    "https://api.example.org/".padEnd(2048, "x"),
  ])("accepts %s", (pattern) => {
    expect(urlPatternProblem(pattern)).toBeUndefined();
  });

  it.each([
    ["http*://api.example.org/x", "scheme"],
    ["https://*.example.org/x", "host"],
    ["https://api.*/x", "host"],
    ["https://api.example.org:*/x", "port"],
    ["*://api.example.org/x", "scheme"],
  ])("rejects %s (wildcard in %s) as a wildcard in the host", (pattern) => {
    expect(urlPatternProblem(pattern)).toBe("wildcardInHost");
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
  ])("rejects %j as malformed", (pattern) => {
    expect(urlPatternProblem(pattern)).toBe("malformed");
  });
});
