// Sends upload requests with large bodies through Node's own HTTP client (node:http, as axios and
// newman do) and reports which answers reached the client. Driven by tests/api/early_refusals.rs.
//
// Usage: node early_refusal.mjs '<plan as JSON>'
// plan: { base, concurrency?, timeoutMs?, cases: [case] }
// case: { name, method, path, headers?, body: { kind: "multipart" | "raw", field?, filename? },
//         sizes: [bytes, ...], chunked?: bool, keepAlive?: bool, followUp?: path }
// Each size is one request, sent with Content-Length (or chunked, without it). With `keepAlive`
// the case's requests share one socket at a time (an agent with maxSockets 1); with `followUp`
// each request is followed by a GET of that path on the same agent, to see whether the socket was
// reused.
// Prints one JSON object: { cases: { name: { sent, answered, lost, statuses, errors, late,
// closing, followUps: [{ status, sameConnection }] } } }: `errors` are why answers were lost, `late`
// errors came after the answer, `closing` answers said `Connection: close`. A follow-up is on the
// same connection when its local port is the request's (Node's `reusedSocket` misses a socket
// handed over to a request that was waiting for it).

import http from "node:http";

const plan = JSON.parse(process.argv[2]);
const CHUNK = 64 * 1024;
const zeros = Buffer.alloc(CHUNK);

/// The request body in pieces (prefix, filler, suffix) and its total length.
function body(spec, size) {
  if (spec.kind === "raw") {
    return { head: Buffer.alloc(0), fill: size, tail: Buffer.alloc(0), type: null };
  }
  const boundary = "----earlyrefusal" + Math.random().toString(16).slice(2);
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nA title\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\nWords\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="${spec.field}"; filename="${spec.filename}"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const fill = Math.max(0, size - head.length - tail.length);
  return { head, fill, tail, type: `multipart/form-data; boundary=${boundary}` };
}

/// Writes `chunk`, waiting for the socket to drain as `stream.pipe` does; false once the request
/// is gone (errored or destroyed). Node stops passing the socket's `drain` on to a request whose
/// response is complete, so the socket's own is awaited as well.
async function write(req, chunk) {
  if (req.destroyed) return false;
  if (req.write(chunk)) return true;
  const emitters = [req, req.socket].filter(Boolean);
  await new Promise((resolve) => {
    const done = () => {
      for (const e of emitters) {
        e.off("drain", done);
        e.off("close", done);
      }
      resolve();
    };
    for (const e of emitters) {
      e.on("drain", done);
      e.on("close", done);
    }
  });
  return !req.destroyed;
}

/// One request; resolves with what the client saw: the status and parsed body once the whole
/// answer was read, or the error that came first.
function send(c, size, agent) {
  const { head, fill, tail, type } = body(c.body, size);
  const headers = { ...(c.headers || {}) };
  if (!c.chunked) headers["content-length"] = String(head.length + fill + tail.length);
  if (type) headers["content-type"] = type;
  return new Promise((resolve) => {
    const outcome = { late: [] };
    let settled = false;
    const settle = (fields) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      Object.assign(outcome, fields);
      resolve(outcome);
    };
    const req = http.request(new URL(c.path, plan.base), { method: c.method, headers, agent });
    const timer = setTimeout(() => {
      settle({ error: "client timeout" });
      req.destroy();
    }, plan.timeoutMs || 60000);
    req.on("socket", (socket) => {
      if (socket.connecting) socket.once("connect", () => (outcome.localPort = socket.localPort));
      else outcome.localPort = socket.localPort;
    });
    req.on("error", (e) => {
      if (settled) outcome.late.push(e.code || e.message);
      settle({ error: e.code || e.message });
    });
    req.on("response", (res) => {
      const parts = [];
      res.on("data", (d) => parts.push(d));
      res.on("aborted", () => settle({ error: "response aborted" }));
      res.on("error", (e) => settle({ error: "response " + (e.code || e.message) }));
      res.on("end", () => {
        const text = Buffer.concat(parts).toString();
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON: judged below
        }
        settle({ status: res.statusCode, json, connection: res.headers.connection });
      });
    });
    (async () => {
      if (!(await write(req, head))) return;
      for (let left = fill; left > 0; left -= CHUNK) {
        if (!(await write(req, left >= CHUNK ? zeros : zeros.subarray(0, left)))) return;
      }
      if (!(await write(req, tail))) return;
      req.end();
    })();
  });
}

/// An answer counts when its status came with the error envelope naming the same status (or, for
/// answers without a body such as tus's, with no body at all).
function answered(o) {
  if (o.status === undefined) return false;
  if (o.json === null) return o.status === 204;
  return o.json.statusCode === o.status && o.json.success === false;
}

async function runCase(c) {
  const agent = c.keepAlive
    ? new http.Agent({ keepAlive: true, maxSockets: 1 })
    : new http.Agent({ keepAlive: false });
  const result = { sent: 0, answered: 0, lost: 0, statuses: {}, errors: {}, late: {}, closing: 0, followUps: [] };
  const one = async (size) => {
    result.sent += 1;
    const o = await send(c, size, agent);
    if (answered(o)) {
      result.answered += 1;
      result.statuses[o.status] = (result.statuses[o.status] || 0) + 1;
      if (o.connection === "close") result.closing += 1;
    } else {
      result.lost += 1;
      const why = o.error || `status ${o.status} without the error envelope`;
      result.errors[why] = (result.errors[why] || 0) + 1;
    }
    for (const e of o.late) result.late[e] = (result.late[e] || 0) + 1;
    if (c.followUp) {
      const next = await send({ method: "GET", path: c.followUp, body: { kind: "raw" } }, 0, agent);
      result.followUps.push({
        status: next.status,
        sameConnection: next.localPort !== undefined && next.localPort === o.localPort,
        error: next.error,
      });
    }
  };
  const queue = [...c.sizes];
  const workers = Array.from({ length: c.keepAlive ? 1 : plan.concurrency || 1 }, async () => {
    while (queue.length) await one(queue.shift());
  });
  await Promise.all(workers);
  agent.destroy();
  return result;
}

const results = {};
for (const c of plan.cases) results[c.name] = await runCase(c);
process.stdout.write(JSON.stringify({ cases: results }) + "\n");
