import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DiscoveryKind, DiscoveryPlan } from "../lib/etcd/discovery";
import {
  DISCOVERY_CONNECT_TIMEOUT,
  DISCOVERY_REQUEST_TIMEOUT,
  discoveryRetireCommand,
  discoveryTokenCommand,
} from "../lib/render/discovery-token";

/*
 * The deploy's discovery-token step run by sh with a stand-in `curl` that
 * answers each request from a table (status and body by method and URL) and
 * logs it. etcd-discovery.test.ts (npm test) runs the step against a real
 * etcd serving v2 and v3 discovery.
 */

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-discovery-"));
  fs.mkdirSync(path.join(dir, "bin"));
  // Answers: files answers/<n> with "METHOD URL-prefix\nSTATUS\nBODY"; first match wins.
  fs.writeFileSync(
    path.join(dir, "bin", "curl"),
    `#!/bin/sh
out=; method=GET; data=; url=
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift ;; -X) method=$2; shift ;; --data) data=$2; shift ;;
    -w|--connect-timeout|--max-time) echo "$1 $2" >> "$DIR/options"; shift ;;
    http*) url=$1 ;;
  esac
  shift
done
printf '%s %s %s\\n' "$method" "$url" "$data" >> "$DIR/requests"
for f in "$DIR"/answers/*; do
  [ -e "$f" ] || continue
  match=$(sed -n 1p "$f")
  case "$method $url" in "$match"*)
    sed -n '3,$p' "$f" > "$out"; printf '%s' "$(sed -n 2p "$f")"; exit 0 ;;
  esac
done
echo "curl: (7) Failed to connect" >&2; exit 7
`,
    { mode: 0o755 },
  );
  fs.mkdirSync(path.join(dir, "answers"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

let answers = 0;
function answer(request: string, status: number, body = "") {
  fs.writeFileSync(
    path.join(dir, "answers", String(answers++).padStart(3, "0")),
    `${request}\n${status}\n${body}\n`,
  );
}

function step(kind: DiscoveryKind, endpoints: string[], size = 3) {
  const plan: DiscoveryPlan = { kind, endpoints, size };
  const r = spawnSync("/bin/sh", ["-c", discoveryTokenCommand(plan, "discovery.env")], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, DIR: dir },
  });
  const env = path.join(dir, "discovery.env");
  const read = (f: string) =>
    fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "";
  return {
    status: r.status,
    out: r.stdout,
    err: r.stderr,
    written: fs.existsSync(env) ? fs.readFileSync(env, "utf8") : undefined,
    mode: fs.existsSync(env) ? fs.statSync(env).mode & 0o777 : undefined,
    requests: read("requests").split("\n").filter(Boolean),
    options: read("options"),
  };
}

describe("the token step", () => {
  it("public service: asks /new?size=N and keeps the token URL it answers, 0600", () => {
    answer("GET https://discovery.etcd.io/new?size=3", 200, "https://discovery.etcd.io/3a1b2c\r");
    const r = step(DiscoveryKind.PUBLIC_SERVICE, ["https://discovery.etcd.io"]);
    expect(r.err).toBe("");
    expect(r.written).toBe("ETCD_DISCOVERY=https://discovery.etcd.io/3a1b2c\n");
    expect(r.mode).toBe(0o600);
    expect(r.out).toBe("etcd discovery: a new token for 3 members\n");
    expect(r.options).toContain(`--connect-timeout ${DISCOVERY_CONNECT_TIMEOUT}\n`);
    expect(r.options).toContain(`--max-time ${DISCOVERY_REQUEST_TIMEOUT}\n`);
    expect([DISCOVERY_CONNECT_TIMEOUT, DISCOVERY_REQUEST_TIMEOUT]).toEqual([5, 15]);
  });

  it("public service: an error answer or a body that is no token URL fails, writing nothing", () => {
    answer("GET https://discovery.etcd.io/new", 503, "overloaded");
    const down = step(DiscoveryKind.PUBLIC_SERVICE, ["https://discovery.etcd.io"]);
    expect(down.status).toBe(1);
    expect(down.err).toMatch(
      /^etcd discovery: https:\/\/discovery\.etcd\.io\/new\?size=3 answered HTTP 503 \(.*overloaded.*\)\. The public discovery service is deprecated/,
    );
    expect(down.written).toBeUndefined();
    fs.rmSync(path.join(dir, "answers"), { recursive: true });
    fs.mkdirSync(path.join(dir, "answers"));
    answer("GET https://discovery.etcd.io/new", 200, "<html>$(touch pwned)</html>");
    const junk = step(DiscoveryKind.PUBLIC_SERVICE, ["https://discovery.etcd.io"]);
    expect(junk.status).toBe(1);
    expect(junk.err).toContain("did not answer with a discovery URL");
    expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false);
    const none = step(DiscoveryKind.PUBLIC_SERVICE, ["https://nowhere.example"]);
    expect(none.err).toMatch(
      /no answer from https:\/\/nowhere\.example\/new\?size=3 within 15 s \(curl: \(7\) Failed to connect/,
    );
  });

  it("self-hosted: creates a fresh token of the size and marks it as made by the deploy", () => {
    answer("PUT http://192.168.56.5:2379/v2/keys/_etcd/registry/", 201, "{}");
    const r = step(DiscoveryKind.SELF_HOSTED, ["http://192.168.56.5:2379"], 5);
    expect(r.err).toBe("");
    const put = r.requests[0].split(" ");
    expect(put[0]).toBe("PUT");
    expect(put[1]).toMatch(
      /^http:\/\/192\.168\.56\.5:2379\/v2\/keys\/_etcd\/registry\/[0-9a-f]{32}\/_config\/size\?prevExist=false$/,
    );
    expect(put[2]).toBe("value=5");
    const token = put[1].replace(/\/_config\/size.*$/, "");
    expect(r.written).toBe(
      `# made by this deploy: deleted when the cluster is destroyed\nETCD_DISCOVERY=${token}\n`,
    );
    expect(r.out).toBe("etcd discovery: a new token for 5 members\n");
  });

  it("self-hosted: a service that does not create the token fails naming what it must be", () => {
    answer("PUT http://192.168.56.5:2379/", 404, "not found");
    const r = step(DiscoveryKind.SELF_HOSTED, ["http://192.168.56.5:2379"]);
    expect(r.status).toBe(1);
    expect(r.err).toContain(
      "the discovery service http://192.168.56.5:2379 did not create a token (HTTP 404",
    );
    expect(r.err).toContain("etcd < 3.6 with --enable-v2");
    expect(r.written).toBeUndefined();
  });

  it("existing token: checks its size and that nobody registered on it", () => {
    const token = "http://192.168.56.5:2379/v2/keys/_etcd/registry/abc";
    answer(`GET ${token}/_config/size`, 200, '{"node":{"value":"3"}}');
    answer(`GET ${token}`, 200, '{"node":{"nodes":[]}}');
    const ok = step(DiscoveryKind.EXISTING_TOKEN, [token]);
    expect(ok.err).toBe("");
    expect(ok.written).toBe(`ETCD_DISCOVERY=${token}\n`);
  });

  it("existing token of another size, or spent, fails", () => {
    const token = "http://192.168.56.5:2379/v2/keys/_etcd/registry/abc";
    answer(`GET ${token}/_config/size`, 200, '{"node":{"value":"5"}}');
    const size = step(DiscoveryKind.EXISTING_TOKEN, [token]);
    expect(size.err).toContain(
      `the discovery token ${token} is for 5 members, but the cluster bootstraps 3: make a token of size 3, e.g. https://discovery.etcd.io/new?size=3`,
    );
    fs.rmSync(path.join(dir, "answers"), { recursive: true });
    fs.mkdirSync(path.join(dir, "answers"));
    answer(`GET ${token}/_config/size`, 200, '{"node":{"value":"3"}}');
    answer(
      `GET ${token}`,
      200,
      '{"node":{"nodes":[{"value":"core-01=https://192.168.56.101:2380"}]}}',
    );
    const spent = step(DiscoveryKind.EXISTING_TOKEN, [token]);
    expect(spent.status).toBe(1);
    expect(spent.err).toContain("is spent");
    expect(spent.written).toBeUndefined();
  });

  it("v3: puts the size under a new token with a create-only transaction; plain http marks the transport insecure", () => {
    answer("POST http://192.168.56.6:2379/v3/kv/txn", 200, '{"succeeded":true}');
    const r = step(DiscoveryKind.V3, ["http://192.168.56.5:2379", "http://192.168.56.6:2379"]);
    expect(r.err).toBe("");
    expect(r.requests.map((q) => q.split(" ").slice(0, 2).join(" "))).toEqual([
      "POST http://192.168.56.5:2379/v3/kv/txn",
      "POST http://192.168.56.6:2379/v3/kv/txn",
    ]);
    const txn = JSON.parse(r.requests[1].split(" ").slice(2).join(" "));
    const id = /^ETCD_DISCOVERY_TOKEN=([0-9a-f]{32})$/m.exec(r.written ?? "")?.[1];
    const key = Buffer.from(`/_etcd/registry/${id}/_config/size`).toString("base64");
    expect(txn).toEqual({
      compare: [{ key, target: "CREATE", create_revision: "0" }],
      success: [{ request_put: { key, value: Buffer.from("3").toString("base64") } }],
    });
    expect(r.written).toBe(
      `ETCD_DISCOVERY_TOKEN=${id}\nETCD_DISCOVERY_ENDPOINTS=http://192.168.56.5:2379,http://192.168.56.6:2379\nETCD_DISCOVERY_INSECURE_TRANSPORT=true\n`,
    );
  });

  it("v3 over https: no insecure transport; a failed transaction fails", () => {
    answer("POST https://d.example:2379/v3/kv/txn", 200, '{"succeeded":true}');
    expect(step(DiscoveryKind.V3, ["https://d.example:2379"]).written).not.toContain("INSECURE");
    fs.rmSync(path.join(dir, "answers"), { recursive: true });
    fs.mkdirSync(path.join(dir, "answers"));
    answer("POST https://d.example:2379/v3/kv/txn", 200, '{"succeeded":false}');
    fs.rmSync(path.join(dir, "discovery.env"));
    const r = step(DiscoveryKind.V3, ["https://d.example:2379"]);
    expect(r.err).toContain(
      "the v3 discovery service https://d.example:2379 did not create a token (HTTP 200",
    );
    expect(r.written).toBeUndefined();
  });

  it("static bootstrap has no token step", () => {
    expect(() =>
      discoveryTokenCommand({ kind: DiscoveryKind.STATIC, endpoints: [], size: 3 }, "x"),
    ).toThrow("static bootstrap needs no discovery token");
  });
});

describe("the retire step", () => {
  it("deletes on the service only a token the deploy made, and always the file", () => {
    const token = "http://192.168.56.5:2379/v2/keys/_etcd/registry/abc";
    answer(`DELETE ${token}`, 200, "{}");
    const retire = () =>
      spawnSync("/bin/sh", ["-c", discoveryRetireCommand("discovery.env")], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, DIR: dir },
      });
    const env = path.join(dir, "discovery.env");
    fs.writeFileSync(env, `ETCD_DISCOVERY=${token}\n`);
    expect(retire().status).toBe(0);
    expect(fs.existsSync(env)).toBe(false);
    expect(fs.existsSync(path.join(dir, "requests"))).toBe(false);
    fs.writeFileSync(
      env,
      `# made by this deploy: deleted when the cluster is destroyed\nETCD_DISCOVERY=${token}\n`,
    );
    expect(retire().status).toBe(0);
    expect(fs.readFileSync(path.join(dir, "requests"), "utf8")).toBe(
      `DELETE ${token}?recursive=true&dir=true \n`,
    );
    expect(fs.existsSync(env)).toBe(false);
    expect(retire().status).toBe(0);
  });
});
