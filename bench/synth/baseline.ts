/*
 * The baseline of `npm run bench`: a plain cdktf app that emits what the
 * library app emits at the same size (the same resources and data sources,
 * kinds and counts, with the same attributes, dependencies and conditions,
 * the same outputs, and the same files in the stack folder), written the way
 * a cdktf user would: provider classes, one loop over the nodes, texts from
 * templates (fixture.ts). No planning, validation, rendering or policy.
 * BENCH_FIXTURE names the fixture; the output folder comes from CDKTF_OUTDIR.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  anyToTerraform,
  App,
  Fn,
  hashMapper,
  Op,
  TerraformOutput,
  TerraformResource,
  TerraformSelf,
  TerraformStack,
} from "cdktf";
import { Construct } from "constructs";
import { ValidateTerraformVersion } from "cdktf/lib/validations/validate-terraform-version";
import {
  BenchFixture,
  fill,
  HASH,
  INDEX,
  LifecycleStrings,
  NAME,
  SUBNET,
  USER_DATA_FOLDER,
} from "./fixture";
import { BENCH_STACK } from "./shape";
import { stackNetwork } from "./stack-network";

/** `terraform_data`, as `cdktf get` would bind it (cdktf's DataResource checks the Terraform version per resource). */
class TerraformDataResource extends TerraformResource {
  constructor(
    scope: Construct,
    id: string,
    private readonly config: {
      input: Record<string, string>;
      triggersReplace: Record<string, string>;
      provisioners: TerraformResource["terraformMetaArguments"]["provisioners"];
      dependsOn: TerraformResource[];
    },
  ) {
    super(scope, id, {
      terraformResourceType: "terraform_data",
      terraformGeneratorMetadata: { providerName: "terraform" },
      dependsOn: config.dependsOn,
      provisioners: config.provisioners as never,
    });
  }
  protected synthesizeAttributes(): Record<string, unknown> {
    return {
      input: hashMapper(anyToTerraform)(this.config.input),
      triggers_replace: hashMapper(anyToTerraform)(this.config.triggersReplace),
    };
  }
}

type Lifecycle = (id: string, s: LifecycleStrings, deps: TerraformResource[]) => TerraformResource;

async function vagrantStack(stack: TerraformStack, f: BenchFixture): Promise<void> {
  const v = f.vagrant as NonNullable<BenchFixture["vagrant"]>;
  const provisioners = (s: LifecycleStrings, self: string) => [
    { type: "local-exec" as const, command: s.command, workingDir: s.input.dir },
    ...(s.destroy
      ? [
          {
            type: "local-exec" as const,
            when: "destroy" as const,
            command: s.destroy.command.replace("self.input", self),
            workingDir: s.destroy.workingDir.replace("self.input", self),
          },
        ]
      : []),
  ];
  let lifecycle: Lifecycle;
  if (f.target === "vagrant") {
    // The check cdktf's DataResource runs per resource, once per stack.
    stack.node.addValidation(new ValidateTerraformVersion(">=1.4", "terraform_data needs >= 1.4"));
    lifecycle = (id, s, deps) =>
      new TerraformDataResource(stack, `vagrant_core_${id}`, {
        input: s.input,
        triggersReplace: { inputs: s.trigger },
        provisioners: provisioners(s, "self.input") as never,
        dependsOn: deps,
      });
  } else {
    const [{ Resource }, { NullProvider }] = await Promise.all([
      import("@cdktf/provider-null/lib/resource"),
      import("@cdktf/provider-null/lib/provider"),
    ]);
    new NullProvider(stack, "null-provider");
    lifecycle = (id, s, deps) =>
      new Resource(stack, `vagrant_core_${id}`, {
        triggers: { ...s.input, inputs: s.trigger },
        provisioners: provisioners(s, "self.triggers"),
        dependsOn: deps,
      });
  }
  const named = (r: TerraformResource, id: string) => {
    r.overrideLogicalId(`vagrant_core_${id}`);
    return r;
  };
  const box = named(lifecycle("box", v.box, []), "box");
  const prune = named(lifecycle("prune", v.prune, [box]), "prune");
  let previous: TerraformResource | undefined;
  for (const n of f.nodes) {
    const ignition = fill(f.ignition, n);
    const s = {
      ...v.node,
      input: { ...v.node.input, name: n.name },
      trigger: createHash("sha256").update(ignition).digest("hex"),
      command: fill(v.node.command, n),
      destroy: v.node.destroy && {
        ...v.node.destroy,
        command: v.node.destroy.command.replace(NAME, n.name),
      },
    };
    previous = named(lifecycle(n.name, s, previous ? [prune, previous] : [prune]), n.name);
  }
  let previousConfig: TerraformResource | undefined;
  for (const m of v.front) {
    const machine = named(
      lifecycle(m.machine.id, m.machine, [prune, previous as TerraformResource]),
      m.machine.id,
    );
    previous = machine;
    previousConfig = named(
      lifecycle(m.config.id, m.config, previousConfig ? [machine, previousConfig] : [machine]),
      m.config.id,
    );
  }
  new TerraformOutput(stack, "node_addresses", {
    value: Object.fromEntries(f.nodes.map((n) => [n.name, n.address])),
  });
}

async function awsStack(stack: TerraformStack, f: BenchFixture): Promise<void> {
  const a = f.aws as NonNullable<BenchFixture["aws"]>;
  const { vpc, subnets: created, publicRoutes } = await stackNetwork(stack);
  // Loaded here, so that the Vagrant runs load no AWS provider class.
  const { DataAwsSubnet } = await import("@cdktf/provider-aws/lib/data-aws-subnet");
  const { DataAwsRouteTable } = await import("@cdktf/provider-aws/lib/data-aws-route-table");
  const { DataAwsRouteTables } = await import("@cdktf/provider-aws/lib/data-aws-route-tables");
  const { DataAwsAmi } = await import("@cdktf/provider-aws/lib/data-aws-ami");
  const { SecurityGroup } = await import("@cdktf/provider-aws/lib/security-group");
  const { VpcSecurityGroupIngressRule } = await import(
    "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule"
  );
  const { VpcSecurityGroupEgressRule } = await import(
    "@cdktf/provider-aws/lib/vpc-security-group-egress-rule"
  );
  const { Ec2SubnetCidrReservation } = await import(
    "@cdktf/provider-aws/lib/ec2-subnet-cidr-reservation"
  );
  const { Instance } = await import("@cdktf/provider-aws/lib/instance");
  const { Lb } = await import("@cdktf/provider-aws/lib/lb");
  const { LbTargetGroup } = await import("@cdktf/provider-aws/lib/lb-target-group");
  const { LbTargetGroupAttachment } = await import(
    "@cdktf/provider-aws/lib/lb-target-group-attachment"
  );
  const { LbListener } = await import("@cdktf/provider-aws/lib/lb-listener");

  // The cluster: what AwsCluster emits, written out by hand.
  const tags = (name: string) => ({ Name: name, "coreos-cluster": "core" });
  const subnets = created.map(
    (s, i) =>
      new DataAwsSubnet(stack, `core_subnet_${i}`, {
        id: s.id,
        lifecycle: {
          postcondition: [
            {
              condition: Op.eq(TerraformSelf.getString("cidr_block"), a.subnetCidrs[i]),
              errorMessage: `subnet ${i} of cluster core must have the CIDR ${a.subnetCidrs[i]} (the cluster's subnetCidrs[${i}])`,
            },
            {
              condition: Op.eq(TerraformSelf.getString("vpc_id"), vpc.id),
              errorMessage: `subnet ${i} of cluster core must lie in the VPC given as network.vpcId`,
            },
          ],
        },
      }),
  );
  const main = new DataAwsRouteTable(stack, "core_main_routes", {
    vpcId: vpc.id,
    filter: [{ name: "association.main", values: ["true"] }],
    dependsOn: publicRoutes,
  });
  const checked = subnets.map((s, i) => {
    const associated = new DataAwsRouteTables(stack, `core_subnet_${i}_route_tables`, {
      vpcId: vpc.id,
      filter: [{ name: "association.subnet-id", values: [s.id] }],
      dependsOn: publicRoutes,
    });
    return new DataAwsRouteTable(stack, `core_subnet_${i}_routes`, {
      routeTableId: Fn.element(Fn.concat([associated.ids, [main.id]]), 0),
      dependsOn: publicRoutes,
      lifecycle: {
        postcondition: [
          {
            condition: a.routeCondition,
            errorMessage: a.routeMessage.replace(SUBNET, s.id).replace(INDEX, String(i)),
          },
        ],
      },
    });
  });
  const image = new DataAwsAmi(stack, "core_image", {
    mostRecent: true,
    owners: ["075585003325"],
    filter: [
      { name: "name", values: ["Flatcar-stable-*"] },
      { name: "architecture", values: ["x86_64"] },
      { name: "virtualization-type", values: ["hvm"] },
      { name: "root-device-type", values: ["ebs"] },
    ],
  });
  // Construct ids are unique per scope, logical ids per kind: the groups share theirs with the load balancer's.
  const nodesGroup = new SecurityGroup(stack, "group_core_nodes", {
    name: "core-nodes",
    description: "Nodes of CoreOS cluster core",
    vpcId: vpc.id,
    tags: tags("core-nodes"),
  });
  nodesGroup.overrideLogicalId("core_nodes");
  const frontGroup = new SecurityGroup(stack, "group_core_front", {
    name: "core-front",
    description: "Load balancer of CoreOS cluster core",
    vpcId: vpc.id,
    tags: tags("core-front"),
  });
  frontGroup.overrideLogicalId("core_front");
  const rule = (id: string, group: string, port: number, from: Record<string, string>) =>
    new VpcSecurityGroupIngressRule(stack, id, {
      securityGroupId: group,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      ...from,
    } as never);
  for (const port of [2379, 2380]) {
    rule(`core_etcd_${port}`, nodesGroup.id, port, {
      referencedSecurityGroupId: nodesGroup.id,
      description: `etcd ${port} between the cluster's nodes only`,
    });
  }
  new VpcSecurityGroupEgressRule(stack, "core_nodes_egress", {
    securityGroupId: nodesGroup.id,
    ipProtocol: "-1",
    cidrIpv4: "0.0.0.0/0",
    description: "Outbound: images, updates, time",
  });
  rule("core_front_http_0", frontGroup.id, 80, {
    cidrIpv4: "0.0.0.0/0",
    description: "Listener http",
  });
  rule("core_from_front_8080", nodesGroup.id, 8080, {
    referencedSecurityGroupId: frontGroup.id,
    description: "Traffic and health checks from the load balancer",
  });
  new VpcSecurityGroupEgressRule(stack, "core_front_to_nodes_8080", {
    securityGroupId: frontGroup.id,
    ipProtocol: "tcp",
    fromPort: 8080,
    toPort: 8080,
    referencedSecurityGroupId: nodesGroup.id,
    description: "To the nodes",
  });

  const ready = [...publicRoutes, ...checked];
  const reservations: InstanceType<typeof Ec2SubnetCidrReservation>[] = [];
  const instances = f.nodes.map((n, i) => {
    const subnet = subnets[i % subnets.length];
    const reservation = new Ec2SubnetCidrReservation(stack, `core_reserved_${n.name}`, {
      subnetId: subnet.id,
      cidrBlock: `${n.address}/32`,
      reservationType: "explicit",
      description: `Address of node ${n.name} of CoreOS cluster core`,
    });
    reservations.push(reservation);
    return new Instance(stack, `core_${n.name}`, {
      ami: image.id,
      instanceType: "t3.small",
      subnetId: subnet.id,
      privateIp: n.address,
      vpcSecurityGroupIds: [nodesGroup.id],
      associatePublicIpAddress: true,
      userData: fill(a.userData, n),
      userDataReplaceOnChange: true,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required" },
      rootBlockDevice: {
        volumeType: "gp3",
        volumeSize: 20,
        encrypted: true,
        deleteOnTermination: true,
      },
      tags: tags(n.name),
      lifecycle: { ignoreChanges: ["ami"] },
      dependsOn: [...ready, reservation],
    });
  });
  // Each node's rollout marker: Terraform records that it applied the node's config.
  stack.node.addValidation(new ValidateTerraformVersion(">=1.4", "terraform_data needs >= 1.4"));
  f.nodes.forEach((n, i) => {
    const hash = createHash("sha256").update(fill(a.userDataFile, n)).digest("hex");
    new TerraformDataResource(stack, `core_${n.name}_applied`, {
      input: { node: n.name, config: hash },
      triggersReplace: { config: hash },
      provisioners: [
        { type: "local-exec", command: fill(a.appliedCommand, n).split(HASH).join(hash) },
      ] as never,
      dependsOn: [instances[i]],
    });
  });
  const lb = new Lb(stack, "core_front", {
    name: "core-front",
    loadBalancerType: "network",
    internal: false,
    subnets: subnets.map((s) => s.id),
    securityGroups: [frontGroup.id],
    enableCrossZoneLoadBalancing: true,
    tags: tags("core-front"),
    dependsOn: [...ready, ...reservations],
    lifecycle: {
      precondition: [
        {
          condition: Op.eq(
            Fn.lengthOf(Fn.distinct(subnets.map((s) => s.availabilityZone))),
            subnets.length,
          ),
          errorMessage:
            "the load balancer subnets of cluster core must lie in distinct availability zones: a Network Load Balancer takes one subnet per zone",
        },
      ],
    },
  });
  const group = new LbTargetGroup(stack, "core_front_hello", {
    namePrefix: "hello-",
    port: 8080,
    protocol: "TCP",
    targetType: "ip",
    vpcId: vpc.id,
    deregistrationDelay: "30",
    healthCheck: {
      enabled: true,
      protocol: "HTTP",
      port: "8080",
      path: "/",
      matcher: "200-399",
      interval: 5,
      timeout: 4,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
    },
    tags: tags("core-hello"),
    lifecycle: { createBeforeDestroy: true },
  });
  const attached = new Set(a.attached);
  const targets = f.nodes.flatMap((n, i) => {
    if (!attached.has(n.address)) return [];
    const instance = instances[i];
    const address = `aws_instance.${instance.friendlyUniqueId}`;
    return [
      new LbTargetGroupAttachment(stack, `core_hello_${n.name}`, {
        targetGroupArn: group.arn,
        targetId: n.address,
        port: 8080,
        dependsOn: [instance],
        lifecycle: { replaceTriggeredBy: [`${address}.id`, `${address}.instance_type`] },
      }),
    ];
  });
  new LbListener(stack, "core_front_http", {
    loadBalancerArn: lb.arn,
    port: 80,
    protocol: "TCP",
    defaultAction: [{ type: "forward", targetGroupArn: group.arn }],
    tags: tags("core-front-http"),
    dependsOn: targets,
  });
  new TerraformOutput(stack, "front_url", { value: `http://${lb.dnsName}/` });
  new TerraformOutput(stack, "node_private_addresses", {
    value: Object.fromEntries(f.nodes.map((n) => [n.name, n.address])),
  });
  new TerraformOutput(stack, "node_public_addresses", {
    value: Object.fromEntries(f.nodes.map((n, i) => [n.name, instances[i].publicIp])),
  });
}

/** Writes the files of the stack folder: the verbatim ones, one Ignition per node and folder, the AWS user data. */
function writeFiles(stackDir: string, f: BenchFixture): void {
  const write = (rel: string, text: string, mode = 0o644) => {
    const file = path.join(stackDir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode });
  };
  for (const [rel, text] of Object.entries(f.files)) write(rel, text);
  for (const n of f.nodes) {
    const ignition = fill(f.ignition, n);
    for (const folder of f.ignitionFolders) write(`${folder}/${n.name}.ign`, ignition);
    if (f.aws) write(`${USER_DATA_FOLDER}/${n.name}.ign`, fill(f.aws.userDataFile, n), 0o600);
  }
}

async function main(): Promise<void> {
  const fixture = JSON.parse(
    fs.readFileSync(process.env.BENCH_FIXTURE as string, "utf8"),
  ) as BenchFixture;
  const app = new App();
  const stack = new TerraformStack(app, BENCH_STACK);
  if (fixture.target === "aws") await awsStack(stack, fixture);
  else await vagrantStack(stack, fixture);
  for (const [id, value] of Object.entries(fixture.outputs)) {
    if (!stack.node.tryFindChild(id)) new TerraformOutput(stack, id, { value });
  }
  app.synth();
  writeFiles(path.join(app.outdir, "stacks", BENCH_STACK), fixture);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
