import * as path from "node:path";
import { Testing, TerraformStack } from "cdktf";
import {
  CoreOsCluster,
  Failback,
  FailoverService,
  FailoverServiceProps,
  FrontProtocol,
  LifecycleResource,
  NlbFront,
  ServiceHealthCheck,
  VagrantCluster,
} from "../../lib";

/** Ports of the lab's stack: each node's web service, and the failover service. */
export const LAB_PORTS = { http: 8080, tcp: 9090, service: 5432 } as const;

/** The failover service's unit: the lab's stand-in server (LAB_SERVICE_JS) on port 5432. */
export const DB_UNIT = `[Unit]
Description=db: a service that must run on exactly one node

[Service]
ExecStart=/usr/bin/env node \${LAB_SERVICE_JS} ${LAB_PORTS.service}
`;

/**
 * The stack the lab runs, synthesized like `cdktf synth`: the default cluster (3 nodes,
 * HA front pair) with an HTTP and a TCP listener over every node, and a failover service
 * "db" preferring core-01, with a TCP listener that follows it.
 */
export function synthLabStack(
  outdir: string,
  service: Partial<Omit<FailoverServiceProps, "cluster">> = {},
): { stackDir: string; cluster: CoreOsCluster; db: FailoverService } {
  const app = Testing.app({ outdir });
  const stack = new TerraformStack(app, "lab");
  const cluster = new CoreOsCluster(stack, "core", { nodeCount: 3 });
  const front = new NlbFront(stack, "front");
  front
    .addListener("http", { port: 80, protocol: FrontProtocol.HTTP })
    .addTargets("web", { targets: [cluster], port: LAB_PORTS.http });
  front
    .addListener("tcp", { port: 9000 })
    .addTargets("raw", { targets: [cluster], port: LAB_PORTS.tcp });
  const db = new FailoverService(stack, "db", {
    cluster,
    units: [{ name: "db.service", contents: DB_UNIT }],
    preferredNodes: [cluster.nodeNamed("core-01")],
    failback: Failback.NEVER,
    healthCheck: ServiceHealthCheck.tcp(LAB_PORTS.service),
    listener: { front, port: LAB_PORTS.service },
    ...service,
  });
  new VagrantCluster(stack, "local", {
    cluster,
    front,
    lifecycle: LifecycleResource.TERRAFORM_DATA,
  });
  app.synth();
  return { stackDir: path.join(outdir, "stacks", "lab"), cluster, db };
}
