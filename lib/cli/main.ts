#!/usr/bin/env node
import * as path from "node:path";
import { findCluster } from "../ops/cluster-files";
import { ClusterOperations, OperationReport } from "../ops/operations";
import { MachineTransport, NamespaceTransport, VagrantTransport } from "../ops/transport";
import { formatStatus } from "./format";

const USAGE = `Usage: coreos-cluster-cdktf <command> [options]

Runtime operations on a deployed cluster, without a redeploy:
  status                     nodes, etcd members and health, front backends as HAProxy
                             sees them, failover services and where they run, recent events
  drain <node>               take a node offline: open connections finish, no new ones;
                             its failover services move away (kept across HAProxy reloads)
  resume <node>              bring a node drained with "drain" back
  migrate <service> <node>   move a failover service to a node
  offline <service>          stop a failover service; no node starts it until "online"
  online <service>           start it again (also after it failed too often)

Options:
  --outdir <dir>             the cdktf output folder (default: cdktf.out)
  --stack <name>             the stack, when the folder holds several clusters
  --cluster <name>           the cluster, when the stack holds several
  --transport vagrant|netns  how to reach the machines (default: vagrant, in the stack's
                             Vagrant folder); netns: namespaces <prefix><machine>
  --netns-prefix <prefix>    with --transport netns
  --haproxy-socket <path>    HAProxy's admin socket on the fronts; {machine} is replaced
  --server-state <path>      HAProxy's server state file on the fronts; {machine} is replaced
  --etcd-tls-dir <path>      the folder of etcd's CA and the node's client certificate on
                             the nodes (default: /etc/ssl/etcd); {machine} is replaced
  --wait <seconds>           how long migrate, offline and online wait (default: 60)
  --json                     print status as JSON
`;

interface Args {
  readonly command: string;
  readonly operands: string[];
  readonly flags: Map<string, string>;
}

const VALUE_FLAGS = [
  "outdir",
  "stack",
  "cluster",
  "transport",
  "netns-prefix",
  "haproxy-socket",
  "server-state",
  "etcd-tls-dir",
  "wait",
];

function parse(argv: readonly string[]): Args {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      rest.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (name === "json" || name === "help") flags.set(name, "true");
    else if (VALUE_FLAGS.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else throw new UsageError(`unknown option --${name}`);
  }
  return { command: rest[0] ?? "", operands: rest.slice(1), flags };
}

class UsageError extends Error {}

const ARITY: Record<string, number> = {
  status: 0,
  drain: 1,
  resume: 1,
  migrate: 2,
  offline: 1,
  online: 1,
};

function transportOf(args: Args, vagrantDir?: string): MachineTransport {
  const kind = args.flags.get("transport") ?? "vagrant";
  if (kind === "netns") {
    const prefix = args.flags.get("netns-prefix");
    if (!prefix) throw new UsageError("--transport netns needs --netns-prefix");
    return new NamespaceTransport(prefix);
  }
  if (kind !== "vagrant") throw new UsageError(`--transport: got ${kind}; allowed: vagrant, netns`);
  if (!vagrantDir) {
    throw new Error(
      "the stack has no Vagrant folder: use --transport netns, or a stack with a VagrantCluster",
    );
  }
  return new VagrantTransport(vagrantDir);
}

/** Runs one command; resolves with the exit code. */
export async function main(
  argv: readonly string[],
  out = process.stdout,
  err = process.stderr,
): Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
    if (args.flags.has("help") || args.command === "help" || args.command === "") {
      out.write(USAGE);
      return args.command === "" && !args.flags.has("help") ? 2 : 0;
    }
    if (!(args.command in ARITY)) throw new UsageError(`unknown command ${args.command}`);
    if (args.operands.length !== ARITY[args.command]) {
      throw new UsageError(`${args.command} takes ${ARITY[args.command]} argument(s)`);
    }
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  try {
    const cluster = findCluster(
      path.resolve(args.flags.get("outdir") ?? "cdktf.out"),
      args.flags.get("stack"),
      args.flags.get("cluster"),
    );
    const template = (flag: string) => {
      const t = args.flags.get(flag);
      return t ? (machine: string) => t.replaceAll("{machine}", machine) : undefined;
    };
    const ops = new ClusterOperations(cluster, transportOf(args, cluster.vagrantDir), {
      haproxySocket: template("haproxy-socket"),
      serverStateFile: template("server-state"),
      etcdTlsDir: template("etcd-tls-dir"),
    });
    const waitMs = Number(args.flags.get("wait") ?? 60) * 1000;
    const [a, b] = args.operands;
    if (args.command === "status") {
      const status = await ops.status();
      out.write(
        args.flags.has("json") ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status),
      );
      return 0;
    }
    const run: Record<string, () => Promise<OperationReport>> = {
      drain: () => ops.drain(a),
      resume: () => ops.resume(a),
      migrate: () => ops.migrate(a, b, waitMs),
      offline: () => ops.offline(a, waitMs),
      online: () => ops.online(a, waitMs),
    };
    const report = await run[args.command]();
    out.write(`${report.lines.join("\n")}\n`);
    return report.ok ? 0 : 1;
  } catch (e) {
    err.write(`coreos-cluster-cdktf ${args.command}: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
