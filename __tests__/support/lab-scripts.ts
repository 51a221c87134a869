/*
 * Programs the namespace lab runs inside its machines. Node processes stand in
 * for what the machines would run in containers (the web service on every
 * node, a failover service's server) and for the clients; `systemctl` stands
 * in for systemd, which a namespace does not have of its own.
 */

/** A node's web service: HTTP (answers its name, `?delay=ms`) and TCP (echoes "<name>:<line>"). */
export const LAB_BACKEND = `
const http = require("http"), net = require("net");
const [name, addr, httpPort, tcpPort] = process.argv.slice(1);
const h = http.createServer((req, res) => {
  const delay = Number(new URL(req.url, "http://x").searchParams.get("delay") || 0);
  setTimeout(() => { res.setHeader("x-node", name); res.end(name); }, delay);
});
h.keepAliveTimeout = 60000;
const echo = (s) => {
  let buf = "";
  s.on("error", () => {});
  s.on("data", (c) => {
    buf += c;
    for (let i; (i = buf.indexOf("\\n")) >= 0; buf = buf.slice(i + 1)) s.write(name + ":" + buf.slice(0, i) + "\\n");
  });
};
const t = net.createServer(echo);
let up = 0;
const ready = () => { if (++up === 2) console.log("ready"); };
h.listen(Number(httpPort), addr, ready);
t.listen(Number(tcpPort), addr, ready);
`;

/** A failover service's server: TCP on argv port, echoes "<node>:<line>"; the node comes from the agent's environment. */
export const LAB_SERVICE = `
const net = require("net");
const name = process.env.FAILOVER_NODE || "unknown";
const s = net.createServer((c) => {
  let buf = "";
  c.on("error", () => {});
  c.on("data", (d) => {
    buf += d;
    for (let i; (i = buf.indexOf("\\n")) >= 0; buf = buf.slice(i + 1)) c.write(name + ":" + buf.slice(0, i) + "\\n");
  });
});
s.listen(Number(process.argv[2]), "0.0.0.0", () => console.log("listening " + name));
process.on("SIGTERM", () => { s.close(); process.exit(0); });
`;

/**
 * Usage: OUT MODE ... The client: load for a bounded time, then its results as JSON into the file OUT.
 *   http HOST PORT CONCURRENCY DURATION_MS PATH TIMEOUT_MS   keep-alive GETs
 *   tcp-short HOST PORT DURATION_MS TIMEOUT_MS              one connection after another
 *   tcp-long HOST PORT COUNT DURATION_MS                     long-lived connections, a ping every 50 ms
 *   probe HOST PORT EVERY_MS DURATION_MS TIMEOUT_MS           a GET on a new connection every EVERY_MS,
 *                                                             not waiting for the previous one (open loop)
 * Each request: [start ms, end ms, ok 1/0, node or error, socket reused 1/0].
 */
export const LAB_LOADGEN = `
const http = require("http"), net = require("net");
const [outFile, mode, host, portText, ...rest] = process.argv.slice(1);
const port = Number(portText);
const out = [];
// SIGUSR2: start nothing new, finish what is open, write the results (the scenario has seen enough).
let end = Infinity;
process.on("SIGUSR2", () => { end = Math.min(end, Date.now()); });
const done = (extra) => { require("fs").writeFileSync(outFile, JSON.stringify({ requests: out, ...extra })); process.exit(0); };
function ask(sock, line, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buf = "";
    const t = setTimeout(() => { cleanup(); reject(new Error("timeout")); }, timeoutMs);
    const onData = (c) => { buf += c; const i = buf.indexOf("\\n"); if (i >= 0) { cleanup(); resolve(buf.slice(0, i).split(":")[0]); } };
    const onEnd = (e) => { cleanup(); reject(e instanceof Error ? e : new Error("closed")); };
    const cleanup = () => { clearTimeout(t); sock.off("data", onData); sock.off("error", onEnd); sock.off("close", onEnd); };
    sock.on("data", onData); sock.on("error", onEnd); sock.on("close", onEnd);
    sock.write(line + "\\n");
  });
}
function connect(timeoutMs) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => { s.destroy(); reject(new Error("connect timeout")); }, timeoutMs);
    s.once("connect", () => { clearTimeout(t); resolve(s); });
    s.once("error", (e) => { clearTimeout(t); reject(e); });
  });
}
if (mode === "http") {
  const [concurrency, duration, path, timeoutMs] = [Number(rest[0]), Number(rest[1]), rest[2], Number(rest[3])];
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  end = Math.min(end, Date.now() + duration);
  const one = () => new Promise((resolve) => {
    const t0 = Date.now();
    const req = http.get({ host, port, path, agent, timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => { out.push([t0, Date.now(), res.statusCode === 200 ? 1 : 0, res.statusCode === 200 ? body : "HTTP " + res.statusCode, req.reusedSocket ? 1 : 0]); resolve(); });
      res.on("error", (e) => { out.push([t0, Date.now(), 0, e.message, req.reusedSocket ? 1 : 0]); resolve(); });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => { out.push([t0, Date.now(), 0, e.code || e.message, req.reusedSocket ? 1 : 0]); resolve(); });
  });
  const worker = async () => { while (Date.now() < end) await one(); };
  Promise.all(Array.from({ length: concurrency }, worker)).then(() => done({}));
} else if (mode === "probe") {
  const [every, duration, timeoutMs] = [Number(rest[0]), Number(rest[1]), Number(rest[2])];
  end = Math.min(end, Date.now() + duration);
  const pending = [];
  const fire = () => pending.push(new Promise((resolve) => {
    const t0 = Date.now();
    const req = http.get({ host, port, path: "/", agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => { out.push([t0, Date.now(), res.statusCode === 200 ? 1 : 0, res.statusCode === 200 ? body : "HTTP " + res.statusCode, 0]); resolve(); });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => { out.push([t0, Date.now(), 0, e.code || e.message, 0]); resolve(); });
  }));
  const timer = setInterval(() => { if (Date.now() < end) fire(); else { clearInterval(timer); Promise.all(pending).then(() => done({})); } }, every);
} else if (mode === "tcp-short") {
  const [duration, timeoutMs] = [Number(rest[0]), Number(rest[1])];
  end = Math.min(end, Date.now() + duration);
  (async () => {
    while (Date.now() < end) {
      const t0 = Date.now();
      try {
        const s = await connect(timeoutMs);
        try { out.push([t0, Date.now(), 1, await ask(s, "short", timeoutMs), 0]); } finally { s.destroy(); }
      } catch (e) {
        out.push([t0, Date.now(), 0, e.code || e.message, 0]);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    done({});
  })();
} else if (mode === "tcp-long") {
  const [count, duration] = [Number(rest[0]), Number(rest[1])];
  end = Math.min(end, Date.now() + duration);
  const conns = [];
  (async () => {
    for (let i = 0; i < count; i++) {
      const s = await connect(5000);
      conns.push({ s, owner: await ask(s, "hello", 5000), failedAt: 0, error: "" });
    }
    await Promise.all(conns.map(async (c) => {
      while (Date.now() < end) {
        try { await ask(c.s, "ping", 3000); } catch (e) { c.failedAt = Date.now(); c.error = e.message; return; }
        await new Promise((r) => setTimeout(r, 50));
      }
    }));
    conns.forEach((c) => c.s.destroy());
    done({ connections: conns.map((c) => ({ owner: c.owner, failedAt: c.failedAt, error: c.error })) });
  })().catch((e) => done({ error: e.message }));
} else {
  console.error("unknown mode " + mode);
  process.exit(2);
}
`;

/**
 * systemctl for a namespace: runs a unit's ExecStart= in the background in
 * its own process group, stops it with SIGTERM and, after the unit's
 * TimeoutStopSec, SIGKILL. Logs "<ms> <node> start|stop <unit>" to LAB_LOG
 * once the unit runs / is gone. Units and drop-ins are the files of the
 * node's Ignition config, in LAB_UNITS.
 */
export const SYSTEMCTL_STANDIN = `#!/bin/sh
set -u
cmd=$1
shift
quiet=0
while [ $# -gt 0 ]; do
  case "$1" in --no-block) shift ;; --quiet) quiet=1; shift ;; *) break ;; esac
done
ms() { date +%s%3N; }
exec_start() { sed -n 's/^ExecStart=//p' "$LAB_UNITS/$1" | head -1; }
stop_ms() {
  t=$(cat "$LAB_UNITS/$1" "$LAB_UNITS/$1.d/"*.conf 2>/dev/null | sed -n 's/^TimeoutStopSec=\\([0-9]*\\)ms$/\\1/p' | tail -1)
  echo "\${t:-90000}"
}
pid_of() { cat "$LAB_RUN/$1.pid" 2>/dev/null; }
# Alive and not a zombie (an orphan's exit may wait for init to reap it).
alive() { [ -e "/proc/$1" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }
running() { p=$(pid_of "$1") && [ -n "$p" ] && alive "$p"; }
start() {
  running "$1" && return 0
  setsid sh -c "exec $(exec_start "$1")" </dev/null >>"$LAB_RUN/$1.log" 2>&1 &
  echo $! >"$LAB_RUN/$1.pid"
  echo "$(ms) $FAILOVER_NODE start $1" >>"$LAB_LOG"
}
stop() {
  p=$(pid_of "$1") || return 0
  [ -n "$p" ] || return 0
  kill -TERM -"$p" 2>/dev/null
  deadline=$(($(ms) + $(stop_ms "$1")))
  while alive "$p" && [ "$(ms)" -lt "$deadline" ]; do sleep 0.05; done
  kill -KILL -"$p" 2>/dev/null
  deadline=$(($(ms) + 5000))
  while alive "$p" && [ "$(ms)" -lt "$deadline" ]; do sleep 0.02; done
  rm -f "$LAB_RUN/$1.pid"
  echo "$(ms) $FAILOVER_NODE stop $1" >>"$LAB_LOG"
}
status=0
case "$cmd" in
  start) for u in "$@"; do start "$u"; done ;;
  stop) for u in "$@"; do stop "$u"; done ;;
  restart) for u in "$@"; do stop "$u"; start "$u"; done ;;
  is-active)
    for u in "$@"; do
      if running "$u"; then s=active; elif [ -f "$LAB_RUN/$u.pid" ]; then s=failed; status=3; else s=inactive; status=3; fi
      [ "$quiet" = 1 ] || echo "$s"
    done ;;
  *) echo "systemctl stand-in: $cmd not supported" >&2; exit 1 ;;
esac
exit $status
`;
