import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EtcdDiscovery, EtcdTls, planCluster, CoreOsClusterProps } from "../lib";
import { ClusterPlan } from "../lib/cluster/plan";
import { DISCOVERY_ENV_FILE } from "../lib/etcd/discovery";
import { ETCD_TLS_FILES } from "../lib/render/etcd-environment";
import { bootUnitNames, etcdReadyConditions, renderReadyCheck } from "../lib/render/ready-check";

/*
 * The ready check's logic, run by sh with stand-ins for what it asks: `curl`
 * answers as the etcd members the test declares (healthy, serving peers,
 * listing a learner), `systemctl` as the units it declares enabled or active,
 * `id` as root. The check against real etcd members and a real scratch root
 * is ready-check.test.ts (npm test).
 */

interface Machine {
  /** host:port of members whose /health answers true. */
  healthy?: string[];
  /** host:port of members that serve their peer port. */
  peers?: string[];
  /** Names the member list shows as learners. */
  learners?: string[];
  enabled?: string[];
  /** etcd-member.service running. */
  active?: boolean;
  uid?: number;
  /** What the v2 discovery token answers (its registered members). */
  token?: string;
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-ready-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const write = (name: string, text: string) =>
    fs.writeFileSync(path.join(bin, name), text, { mode: 0o755 });
  // Each curl call is logged (its arguments, one per line, then "--").
  write(
    "curl",
    `#!/bin/sh
for a in "$@"; do printf '%s\\n' "$a"; done >> "$STATE/curl.log"; echo -- >> "$STATE/curl.log"
url=; post=
for a in "$@"; do case "$a" in http://*|https://*) url=$a ;; POST) post=1 ;; esac; done
hp=$(printf '%s' "$url" | sed -E 's#^https?://([^/]+)/.*#\\1#')
case "$url" in
  */health) [ -e "$STATE/healthy/$hp" ] && printf '{"health":"true"}' && exit 0; exit 7 ;;
  */version) [ -e "$STATE/peers/$hp" ] && exit 0; exit 7 ;;
  */v2/keys/*) [ -e "$STATE/token" ] && cat "$STATE/token" && exit 0; exit 7 ;;
  */v3/cluster/member/list)
    [ -e "$STATE/healthy/$hp" ] || exit 7
    printf '{"members":['
    for n in $(cat "$STATE/names"); do
      l=false; [ -e "$STATE/learners/$n" ] && l=true
      printf '{"ID":"1","name":"%s","isLearner":%s},' "$n" "$l"
    done
    printf '{}]}'; exit 0 ;;
esac
exit 22
`,
  );
  write(
    "systemctl",
    `#!/bin/sh
case "$1" in
  is-enabled) [ -e "$STATE/enabled/$3" ] ;;
  is-active) [ -e "$STATE/active" ] ;;
  *) exit 2 ;;
esac
`,
  );
  write("id", `#!/bin/sh\ncat "$STATE/uid"\n`);
  write("sudo", `#!/bin/sh\necho "sudo $*"; exit 9\n`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the check as the machine would with this state; its output, status and curl calls. */
function run(script: string, plan: ClusterPlan, m: Machine) {
  const state = fs.mkdtempSync(path.join(dir, "state-"));
  for (const [sub, names] of Object.entries({
    healthy: m.healthy,
    peers: m.peers,
    learners: m.learners,
    enabled: m.enabled,
  })) {
    fs.mkdirSync(path.join(state, sub));
    for (const n of names ?? []) fs.writeFileSync(path.join(state, sub, n), "");
  }
  if (m.active) fs.writeFileSync(path.join(state, "active"), "");
  fs.writeFileSync(path.join(state, "uid"), `${m.uid ?? 0}\n`);
  fs.writeFileSync(path.join(state, "names"), plan.nodes.map((n) => n.name).join(" "));
  fs.writeFileSync(path.join(state, "curl.log"), "");
  if (m.token !== undefined) fs.writeFileSync(path.join(state, "token"), m.token);
  const file = path.join(state, "check");
  // The discovery settings the deploy gives the node, at a path of the test.
  const discoveryEnv = path.join(state, "discovery.env");
  fs.writeFileSync(
    discoveryEnv,
    "ETCD_DISCOVERY=http://192.168.56.5:2379/v2/keys/_etcd/registry/abc\n",
  );
  fs.writeFileSync(file, script.replaceAll(DISCOVERY_ENV_FILE, discoveryEnv), { mode: 0o755 });
  // The machine runs it by its path: its #! line picks the shell.
  const r = spawnSync(file, [], {
    encoding: "utf8",
    env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, STATE: state },
    timeout: 30_000,
  });
  const curls = fs
    .readFileSync(path.join(state, "curl.log"), "utf8")
    .split("--\n")
    .filter(Boolean)
    .map((c) => c.trimEnd().split("\n"));
  expect(r.stderr).toBe("");
  return { out: r.stdout, status: r.status, curls };
}

const plan = (props: CoreOsClusterProps = {}) =>
  planCluster({ etcd: { tls: EtcdTls.disabled() }, ...props }, { id: "core", path: "s/core" });

/** The check of node `i` with no boot units. */
function check(p: ClusterPlan, i: number) {
  return renderReadyCheck(p.nodes[i].name, [], etcdReadyConditions(p, p.nodes[i]));
}

const M = (i: number) => `192.168.56.10${i}:2379`;
const PEER = (i: number) => `192.168.56.10${i}:2380`;

describe("static bootstrap, 3 members and a client", () => {
  const p = plan({ nodeCount: 4, etcd: { tls: EtcdTls.disabled(), members: 3 } });

  it("a member is up once healthy and voting", () => {
    const r = run(check(p, 2), p, { healthy: [M(1), M(2), M(3)] });
    expect([r.out, r.status]).toEqual(["core-03: up\n", 0]);
  });

  it("the last bootstrap member is not up before it is healthy, whatever its peers do", () => {
    const r = run(check(p, 2), p, { peers: [PEER(3)] });
    expect([r.out, r.status]).toEqual([
      "core-03: etcd member not healthy at http://192.168.56.103:2379/health\n",
      1,
    ]);
  });

  it("the first member (before a quorum runs) is up once it serves its peers and no other member is healthy", () => {
    expect(run(check(p, 0), p, { peers: [PEER(1)] })).toMatchObject({
      out: "core-01: up\n",
      status: 0,
    });
    const r = run(check(p, 0), p, { peers: [PEER(1)], healthy: [M(2), M(3)] });
    expect(r.status).toBe(1);
    expect(r.out).toBe(
      "core-01: etcd member not serving its peers at http://192.168.56.101:2380/version (or, once a quorum of members runs, not healthy at http://192.168.56.101:2379/health)\n",
    );
    expect(run(check(p, 0), p, {}).status).toBe(1);
  });

  it("the member that completes the quorum must be healthy, serving its peers is not enough", () => {
    expect(run(check(p, 1), p, { peers: [PEER(2)] }).status).toBe(1);
    expect(run(check(p, 1), p, { healthy: [M(2)] }).status).toBe(0);
  });

  it("a healthy member that is still a learner is not up", () => {
    const r = run(check(p, 1), p, { healthy: [M(1), M(2), M(3)], learners: ["core-02"] });
    expect([r.out, r.status]).toEqual([
      "core-02: etcd member is still a learner: not yet promoted to a voting member\n",
      1,
    ]);
    // Another node's learner does not count against this one.
    expect(run(check(p, 1), p, { healthy: [M(1), M(2), M(3)], learners: ["core-03"] }).status).toBe(
      0,
    );
  });

  it("asks the other members for the member list before the member itself", () => {
    const r = run(check(p, 0), p, { healthy: [M(1), M(2), M(3)] });
    const lists = r.curls.filter((c) => c.some((a) => a.endsWith("/v3/cluster/member/list")));
    expect(lists[0].at(-1)).toBe("http://192.168.56.102:2379/v3/cluster/member/list");
    // Without TLS, no certificates.
    expect(r.curls.flat().filter((a) => a.startsWith("--ca") || a === "--cert")).toEqual([]);
    expect(lists[0]).toEqual(expect.arrayContaining(["--http1.1", "-X", "POST", "-d", "{}"]));
  });

  it("a client is up once any member is healthy, and says which it tried", () => {
    expect(run(check(p, 3), p, { healthy: [M(3)] }).out).toBe("core-04: up\n");
    const r = run(check(p, 3), p, {});
    expect([r.out, r.status]).toEqual([
      "core-04: etcd cluster not reachable: no healthy member among http://192.168.56.101:2379 http://192.168.56.102:2379 http://192.168.56.103:2379\n",
      1,
    ]);
  });

  it("every unit that starts at boot must be enabled first", () => {
    const units = [
      { name: "a.service", enabled: true, contents: "[Install]\nWantedBy=multi-user.target\n" },
      { name: "b.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n" },
      { name: "c.service", enabled: false, contents: "[Install]\nWantedBy=multi-user.target\n" },
    ];
    expect(bootUnitNames(units)).toEqual(["a.service"]);
    const script = renderReadyCheck("core-04", ["a.service", "etcd-member.service"], []);
    expect(run(script, p, { enabled: ["a.service"] })).toMatchObject({
      out: "core-04: etcd-member.service is not enabled\n",
      status: 1,
    });
    expect(run(script, p, { enabled: ["a.service", "etcd-member.service"] }).out).toBe(
      "core-04: up\n",
    );
  });
});

describe("with TLS", () => {
  const p = planCluster({ nodeCount: 4, etcd: { members: 3 } }, { id: "core", path: "s/core" });

  it("runs as root (sudo otherwise) and talks to etcd with the machine's certificates", () => {
    const conditions = etcdReadyConditions(p, p.nodes[0]);
    expect(conditions.every((c) => c.asRoot === true)).toBe(true);
    const script = renderReadyCheck("core-01", [], conditions);
    expect(run(script, p, { uid: 1000 }).out).toMatch(/^sudo -n .*check$/m);
    const r = run(script, p, { peers: ["192.168.56.101:2380"] });
    expect(r.out).toBe("core-01: up\n");
    const tls = (c: string[]) => [
      c[c.indexOf("--cacert") + 1],
      c[c.indexOf("--cert") + 1],
      c[c.indexOf("--key") + 1],
    ];
    const byUrl = new Map(r.curls.map((c) => [c.at(-1), c]));
    expect(tls(byUrl.get("https://192.168.56.101:2379/health")!)).toEqual([
      ETCD_TLS_FILES.ca,
      ETCD_TLS_FILES.clientCert,
      ETCD_TLS_FILES.clientKey,
    ]);
    expect(tls(byUrl.get("https://192.168.56.101:2380/version")!)).toEqual([
      ETCD_TLS_FILES.ca,
      ETCD_TLS_FILES.memberCert,
      ETCD_TLS_FILES.memberKey,
    ]);
  });

  it("without TLS it needs no root", () => {
    const q = plan();
    expect(etcdReadyConditions(q, q.nodes[0]).some((c) => c.asRoot)).toBe(false);
    expect(check(q, 0)).not.toContain("sudo");
  });
});

describe("v3 discovery", () => {
  const p = plan({
    nodeCount: 3,
    etcd: {
      tls: EtcdTls.disabled(),
      imageTag: "v3.6.5",
      discovery: EtcdDiscovery.v3({ endpoints: ["http://192.168.56.5:2379"] }),
    },
  });

  it("a member before the last is up while its unit runs and no other member is healthy", () => {
    expect(run(check(p, 0), p, { active: true }).status).toBe(0);
    const r = run(check(p, 0), p, {});
    expect(r.out).toBe(
      "core-01: etcd member not running (waiting for the other members through v3 discovery) (or, once the cluster formed, not healthy at http://192.168.56.101:2379/health)\n",
    );
    expect(run(check(p, 0), p, { active: true, healthy: [M(2)] }).status).toBe(1);
  });

  it("the last member must be healthy", () => {
    expect(run(check(p, 2), p, { active: true }).status).toBe(1);
    expect(run(check(p, 2), p, { healthy: [M(3)] }).status).toBe(0);
  });
});

describe("a member added after the bootstrap", () => {
  const record = {
    bootstrap: [1, 2, 3].map((i) => ({ name: `core-0${i}`, address: `192.168.56.10${i}` })),
    members: ["core-01", "core-02", "core-03"],
    nodes: ["core-01", "core-02", "core-03", "core-04", "core-05"],
  };
  const grown = planCluster(
    { nodeCount: 5, etcd: { tls: EtcdTls.disabled(), members: 5 } },
    { id: "core", path: "s/core", previousMembership: record },
  );

  it("is up only once healthy and voting: it joins a running cluster", () => {
    expect(run(check(grown, 3), grown, { peers: [PEER(4)] }).status).toBe(1);
    expect(run(check(grown, 3), grown, { healthy: [M(1), M(4)] }).status).toBe(0);
    expect(run(check(grown, 3), grown, { healthy: [M(1), M(4)], learners: ["core-04"] }).out).toBe(
      "core-04: etcd member is still a learner: not yet promoted to a voting member\n",
    );
  });
});

describe("v2 discovery (a self-hosted service)", () => {
  const p = plan({
    nodeCount: 3,
    etcd: {
      tls: EtcdTls.disabled(),
      discovery: EtcdDiscovery.selfHosted("http://192.168.56.5:2379"),
    },
  });

  it("a member before the last is up once registered on the token and no other member is healthy", () => {
    const registered = '{"node":{"nodes":[{"value":"core-01=http://192.168.56.101:2380"}]}}';
    expect(run(check(p, 0), p, { token: registered })).toMatchObject({
      out: "core-01: up\n",
      status: 0,
    });
    const r = run(check(p, 0), p, { token: '{"node":{"nodes":[]}}', active: true });
    expect(r.out).toMatch(
      /^core-01: etcd member not registered on the discovery token of \S+\/discovery\.env \(or, once the cluster formed, not healthy at http:\/\/192\.168\.56\.101:2379\/health\)\n$/,
    );
    expect(check(p, 0)).toContain("registered on the discovery token of /etc/etcd/discovery.env");
    expect(r.curls.map((c) => c.at(-1))).toContain(
      "http://192.168.56.5:2379/v2/keys/_etcd/registry/abc",
    );
    // Another node's registration does not count.
    const other = '{"node":{"nodes":[{"value":"core-02=http://192.168.56.102:2380"}]}}';
    expect(run(check(p, 0), p, { token: other }).status).toBe(1);
    expect(run(check(p, 0), p, { token: registered, healthy: [M(2)] }).status).toBe(1);
  });
});

describe("one etcd member", () => {
  it("through discovery it is the last member: healthy and voting", () => {
    const p = plan({
      nodeCount: 1,
      etcd: {
        tls: EtcdTls.disabled(),
        members: 1,
        discovery: EtcdDiscovery.selfHosted("http://192.168.56.5:2379"),
      },
    });
    expect(
      run(check(p, 0), p, { token: '{"node":{"nodes":[{"value":"core-01=x"}]}}' }).status,
    ).toBe(1);
    expect(run(check(p, 0), p, { healthy: [M(1)] }).status).toBe(0);
  });
});

describe("renderReadyCheck", () => {
  it("runs as root when any condition reads root's files", () => {
    const script = renderReadyCheck(
      "m",
      [],
      [
        { test: "true", failure: "a", asRoot: true },
        { test: "true", failure: "b" },
      ],
    );
    expect(script.split("\n")).toContain('[ "$(id -u)" = 0 ] || exec sudo -n "$0" "$@"');
    expect(renderReadyCheck("m", [], [{ test: "true", failure: "b" }])).not.toContain("sudo");
  });
});
