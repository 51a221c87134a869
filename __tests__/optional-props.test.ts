import { TerraformStack, Testing } from "cdktf";
import {
  ClusterTopology,
  renderTopologyMarkdown,
  renderTopologySvg,
  TopologyFront,
  AppSettings,
  appSettings,
  CONFIG_KNOBS,
  ConfigKnob,
  AppSettingsOptions,
  CoreOsCluster,
  CoreOsClusterProps,
  EtcdProps,
  FailoverListenerProps,
  FailoverService,
  FailoverServiceProps,
  FrontSettings,
  FrontTargets,
  HealthCheck,
  ListenerProps,
  NlbFront,
  NlbFrontProps,
  ServiceCheckOptions,
  ServiceHealthCheck,
  parseAppSettings,
  ParseSettingsOptions,
  TargetGroupProps,
  VagrantCluster,
  VagrantClusterProps,
} from "../lib";
import {
  AwsCluster,
  AwsClusterProps,
  AwsMachineImage,
  AwsNetwork,
  CreatedNetworkOptions,
  ExistingNetworkOptions,
  MachineImageLookupOptions,
} from "../lib/aws";

// Consumers compiled with `exactOptionalPropertyTypes` pass their own optional
// values straight on (`{ nodeCount: props.nodeCount }`), so every optional
// prop is typed `T | undefined`, and `undefined` must mean "left out".
// Each object lists every optional key: a prop added later fails to compile here.
type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];
type AllUndefined<T> = Readonly<Record<OptionalKeys<T>, undefined>>;

const clusterProps: AllUndefined<CoreOsClusterProps> = {
  name: undefined,
  nodeCount: undefined,
  namePrefix: undefined,
  os: undefined,
  cpus: undefined,
  memoryMiB: undefined,
  sshPublicKeys: undefined,
  networkCidr: undefined,
  firstHostNumber: undefined,
  subnetCidrs: undefined,
  units: undefined,
  files: undefined,
  nodeFiles: undefined,
  etcd: undefined,
  standby: undefined,

  rebootStrategy: undefined,
  maintenanceWindow: undefined,
  provisioning: undefined,
};
const etcdProps: AllUndefined<EtcdProps> = {
  members: undefined,
  clusterToken: undefined,
  imageTag: undefined,
  image: undefined,
  tls: undefined,
  discovery: undefined,
  legacyPorts: undefined,
};
const frontProps: AllUndefined<NlbFrontProps> = { name: undefined };
const listenerProps: AllUndefined<ListenerProps> = { protocol: undefined };
const targetProps: AllUndefined<TargetGroupProps> = {
  healthCheck: undefined,
  balancing: undefined,
  affinity: undefined,
  retryTimeout: undefined,
};
const healthCheck: AllUndefined<HealthCheck> = {
  protocol: undefined,
  path: undefined,
  port: undefined,
  interval: undefined,
  timeout: undefined,
  healthyThreshold: undefined,
  unhealthyThreshold: undefined,
};
const awsProps: AllUndefined<AwsClusterProps> = {
  front: undefined,
  provider: undefined,
  network: undefined,
  image: undefined,
  instanceType: undefined,
  rootVolumeGiB: undefined,
  sshAllowedCidrs: undefined,
  frontAllowedCidrs: undefined,
  internetFacing: undefined,
  publicAddresses: undefined,
  replaceOnImageChange: undefined,
  rollingReplacement: undefined,
  constructPerResource: undefined,
  deregistrationDelay: undefined,
  healthCheckInterval: undefined,
  region: undefined,
  tags: undefined,
};

const vagrantProps: AllUndefined<VagrantClusterProps> = {
  front: undefined,
  provider: undefined,
  lifecycle: undefined,
  boxName: undefined,
  boxUrl: undefined,
  gui: undefined,
  forwardedPorts: undefined,
  sharedFolders: undefined,
  serialLogging: undefined,
  parallel: undefined,
  readyTimeout: undefined,
  frontHighAvailability: undefined,
  frontFirstHostNumber: undefined,
  frontInterface: undefined,
  virtualRouterId: undefined,
  frontImages: undefined,
  configRbHints: undefined,
};
const createdNetwork: AllUndefined<CreatedNetworkOptions> = { availabilityZones: undefined };
const existingNetwork: AllUndefined<ExistingNetworkOptions> = {
  loadBalancerSubnetIds: undefined,
  dependsOn: undefined,
};
const imageLookup: AllUndefined<MachineImageLookupOptions> = {
  architecture: undefined,
  version: undefined,
};

const awsNetwork = { networkCidr: "10.42.0.0/16", subnetCidrs: ["10.42.1.0/24", "10.42.2.0/24"] };

/** The cluster, a front and the AWS target, with the given optional props spread in. */
function synth(explicitUndefined: boolean): { json: string; cluster: CoreOsCluster } {
  const pick = <T extends object>(props: T): T | object => (explicitUndefined ? props : {});
  let cluster: CoreOsCluster | undefined;
  const json = Testing.synthScope((scope) => {
    cluster = new CoreOsCluster(scope, "core", {
      ...pick(clusterProps),
      ...awsNetwork,
      etcd: { ...pick(etcdProps) },
    });
    const front = new NlbFront(scope, "front", { ...pick(frontProps) });
    front
      .addListener("web", { port: 443, ...pick(listenerProps) })
      .addTargets("web", { targets: [cluster], port: 8443, ...pick(targetProps) });
    new AwsCluster(scope, "aws", { ...pick(awsProps), cluster, front });
  });
  if (!cluster) throw new Error("synthScope did not run");
  return { json, cluster };
}

test("an optional prop given as undefined is the same as one left out", () => {
  const leftOut = synth(false);
  const given = synth(true);
  expect(given.cluster.plan).toEqual(leftOut.cluster.plan);
  expect(given.json).toEqual(leftOut.json);
  expect(JSON.parse(given.json).resource.aws_lb).toBeDefined();
});

test("Vagrant: an optional prop given as undefined is the same as one left out", () => {
  const synthVagrant = (explicitUndefined: boolean) => {
    let vagrant: VagrantCluster | undefined;
    const json = Testing.synthScope((scope) => {
      const cluster = new CoreOsCluster(scope, "core");
      const front = new NlbFront(scope, "front");
      front.addListener("web", { port: 80 }).addTargets("web", { targets: [cluster], port: 8080 });
      vagrant = new VagrantCluster(scope, "local", {
        ...(explicitUndefined ? vagrantProps : {}),
        cluster,
        front,
      });
    });
    return { json, plan: vagrant?.plan };
  };
  const leftOut = synthVagrant(false);
  const given = synthVagrant(true);
  expect(given.plan).toEqual(leftOut.plan);
  expect(given.json).toEqual(leftOut.json);
  expect(given.plan?.front?.machines).toHaveLength(2);
});

test("AWS network and image options of undefined values are the defaults", () => {
  const ids = {
    vpcId: "vpc-0123456789abcdef0",
    subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
  };
  expect(AwsNetwork.create(createdNetwork)).toEqual(AwsNetwork.create());
  expect(AwsNetwork.existing({ ...ids, ...existingNetwork })).toEqual(AwsNetwork.existing(ids));
  expect(AwsMachineImage.lookup(imageLookup)).toEqual(AwsMachineImage.lookup());
});

test("a health check of undefined values is the default health check", () => {
  const plan = (healthCheckProps: HealthCheck) => {
    const front = new NlbFront(new TerraformStack(Testing.app(), "s"), "front");
    front.addListener("web", { port: 80 }).addTargets("web", {
      targets: [FrontTargets.host("db-1", "10.0.0.5")],
      port: 8080,
      healthCheck: healthCheckProps,
    });
    return front.plan();
  };
  expect(plan(healthCheck)).toEqual(plan({}));
});

test("a failover service of undefined optional props is the default service", () => {
  const serviceProps: AllUndefined<Omit<FailoverServiceProps, "cluster" | "units">> = {
    name: undefined,
    nodes: undefined,
    preferredNodes: undefined,
    failback: undefined,
    maxFailovers: undefined,
    failoverPeriod: undefined,
    healthCheck: undefined,
    restartAttempts: undefined,
    restartPeriod: undefined,
    leaseTtl: undefined,
    stopTimeout: undefined,
    listener: undefined,
  };
  const listenerProps: AllUndefined<FailoverListenerProps> = {
    protocol: undefined,
    targetPort: undefined,
    healthCheck: undefined,
  };
  const checkOptions: AllUndefined<ServiceCheckOptions> = {
    interval: undefined,
    timeout: undefined,
    failures: undefined,
  };
  const plan = (explicitUndefined: boolean, withParts = false) => {
    const stack = new TerraformStack(Testing.app(), "s");
    const cluster = new CoreOsCluster(stack, "core", {});
    const front = new NlbFront(stack, "front");
    const units = [{ name: "db.service", contents: "[Service]\nExecStart=/bin/true\n" }];
    const props = explicitUndefined ? serviceProps : {};
    const parts = withParts
      ? {
          listener: { front, port: 5432, ...(explicitUndefined ? listenerProps : {}) },
          healthCheck: ServiceHealthCheck.http(8080, "/", explicitUndefined ? checkOptions : {}),
        }
      : {};
    return {
      service: new FailoverService(stack, "db", { ...props, ...parts, cluster, units }).plan,
      cluster: cluster.plan,
      ...(withParts ? { front: front.plan() } : {}),
    };
  };
  expect(plan(true)).toEqual(plan(false));
  // The listener's and the health check's optional props too.
  expect(plan(true, true)).toEqual(plan(false, true));
});

const appSettingsKeys: AllUndefined<AppSettings> = { front: undefined };
// CONFIG_KNOBS: a knob without an environment variable has env undefined.
const knobKeys: AllUndefined<ConfigKnob> = { env: undefined };
const frontSettings: AllUndefined<FrontSettings> = { name: undefined };
const parseOptions: AllUndefined<ParseSettingsOptions> = { source: undefined };
const appOptions: AllUndefined<AppSettingsOptions> = { env: undefined, directory: undefined };

test("settings: options and fields of undefined values are the defaults", () => {
  expect(parseAppSettings({ nodeCount: 2 }, {}, parseOptions)).toEqual(
    parseAppSettings({ nodeCount: 2 }, {}),
  );
  expect(appSettings(undefined, appOptions)).toEqual(appSettings());
  expect({ ...CONFIG_KNOBS.node_ips, ...knobKeys }).toEqual(CONFIG_KNOBS.node_ips);
  // A front of undefined is no front; a front name of undefined is the construct id.
  const none = parseAppSettings({ front: false });
  expect({ ...none, ...appSettingsKeys }).toEqual(none);
  const listeners = [{ name: "web", port: 80, targets: { port: 8080 } }];
  const named = parseAppSettings({ front: { listeners } }).front;
  expect({ ...named, ...frontSettings }).toEqual(named);
});

const topologyKeys: AllUndefined<ClusterTopology> = { front: undefined };
const topologyFront: AllUndefined<TopologyFront> = { note: undefined };

test("topology: a model's optional fields of undefined values draw as left out", () => {
  const front: TopologyFront = {
    name: "f",
    kind: "HAProxy",
    address: "10.0.0.1",
    machines: [],
    listeners: [],
  };
  const model: ClusterTopology = {
    cluster: "c",
    os: "Flatcar stable",
    network: "10.0.0.0/24",
    target: { kind: "vagrant", title: "Vagrant", details: [] },
    etcd: { scheme: "https", clientPort: 2379, peerPort: 2380 },
    nodes: [
      { name: "n-01", address: "10.0.0.2", etcdMember: true, standby: false, draining: false },
    ],
  };
  const withFront = { ...model, front };
  expect(renderTopologySvg("s", [{ ...model, ...topologyKeys }])).toEqual(
    renderTopologySvg("s", [model]),
  );
  expect(
    renderTopologyMarkdown("s", [{ ...withFront, front: { ...front, ...topologyFront } }]),
  ).toEqual(renderTopologyMarkdown("s", [withFront]));
});
