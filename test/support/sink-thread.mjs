// Worker-thread side of `startThreadedSink` (plain JavaScript: worker threads do not get the tsx loader).
// Answers every request 200 and streams each arrival's time and path to the parent every 5 ms.
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { clearInterval, setInterval } from "node:timers";
import { parentPort } from "node:worker_threads";

let pending = [];
const server = createServer((req, res) => {
  pending.push({ at: performance.timeOrigin + performance.now(), method: req.method, path: req.url });
  req.resume();
  req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
});
server.keepAliveTimeout = 60_000;
const flush = () => {
  if (!pending.length) return;
  parentPort.postMessage({ type: "arrivals", arrivals: pending });
  pending = [];
};
const timer = setInterval(flush, 5);
parentPort.on("message", (message) => {
  if (message.type !== "close") return;
  clearInterval(timer);
  flush();
  server.closeAllConnections();
  server.close(() => parentPort.postMessage({ type: "closed" }));
});
server.listen(0, "127.0.0.1", () => {
  parentPort.postMessage({ type: "ready", url: `http://127.0.0.1:${server.address().port}` });
});
