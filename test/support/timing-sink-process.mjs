// The process behind `startTimingSink` (plain JavaScript, forked without the tsx loader). Answers every request 200
// and streams each arrival's time and path, and each of its own stalls, to the parent over IPC every 5 ms.
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { clearInterval, setInterval } from "node:timers";

const now = () => performance.timeOrigin + performance.now();
/** A 1 ms tick this much late means this process (or the whole machine) did not run meanwhile. */
const STALL_MS = 5;

let arrivals = [];
let stalls = [];
const server = createServer((req, res) => {
  arrivals.push({ at: now(), method: req.method, path: req.url });
  req.resume();
  req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
});
server.keepAliveTimeout = 60_000;

let lastTick = now();
const watch = setInterval(() => {
  const tick = now();
  if (tick - lastTick > 1 + STALL_MS) stalls.push({ from: lastTick, to: tick });
  lastTick = tick;
}, 1);
const flush = () => {
  if (!arrivals.length && !stalls.length) return;
  process.send({ type: "observed", arrivals, stalls });
  arrivals = [];
  stalls = [];
};
const timer = setInterval(flush, 5);

process.on("message", (message) => {
  if (message.type !== "close") return;
  clearInterval(timer);
  clearInterval(watch);
  flush();
  server.closeAllConnections();
  server.close(() => process.send({ type: "closed" }, () => process.disconnect()));
});
server.listen(0, "127.0.0.1", () => {
  process.send({ type: "ready", url: `http://127.0.0.1:${server.address().port}` });
});
