// The endpoint every benchmark sends to, in its own process so its clock is not delayed by the sender's work and
// its CPU can be read on its own (the timing tests' threaded sink shares the test's process).
// Answers every request 200 at once, with `{"ok":true}`, or with N bytes of JSON when the URL has `?respond=N`. Records each arrival's time (ms since epoch, sub-ms precision) and, when the
// request carries `x-bench-t0`, the time since that stamp. The parent asks for them over IPC.
import { createServer } from "node:http";
import { URL } from "node:url";
import { performance } from "node:perf_hooks";
import process from "node:process";

const now = () => performance.timeOrigin + performance.now();
let arrivals = [];
let latencies = [];

const server = createServer((req, res) => {
  const at = now();
  arrivals.push(at);
  const t0 = req.headers["x-bench-t0"];
  if (typeof t0 === "string") latencies.push(at - Number(t0));
  req.resume();
  const respond = Number(new URL(req.url, "http://sink").searchParams.get("respond") ?? 0);
  const body = respond > 12 ? `{"pad":"${"p".repeat(respond - 10)}"}` : '{"ok":true}';
  req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(body));
});
server.keepAliveTimeout = 60_000;

process.on("message", (message) => {
  if (message.type === "count") process.send({ type: "count", count: arrivals.length });
  if (message.type === "take") {
    process.send({ type: "take", arrivals, latencies });
    arrivals = [];
    latencies = [];
  }
});
process.on("disconnect", () => process.exit(0));
server.listen(0, "127.0.0.1", () => process.send({ type: "ready", url: `http://127.0.0.1:${server.address().port}` }));
