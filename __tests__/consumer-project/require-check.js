// Plain JavaScript, no TypeScript anywhere: the package is used with require().
const assert = require("node:assert/strict");
const path = require("node:path");
const { Testing } = require("cdktf");
const {
  CoreOsCluster,
  NlbFront,
  VagrantCluster,
  LifecycleResource,
} = require("coreos-cluster-cdktf");

const loaded = (name) =>
  Object.keys(require.cache).filter((file) =>
    file.includes(`${path.sep}node_modules${path.sep}${name}${path.sep}`),
  );

const synth = JSON.parse(
  Testing.synthScope((scope) => {
    const cluster = new CoreOsCluster(scope, "core", { nodeCount: 3 });
    const front = new NlbFront(scope, "front");
    front.addListener("ssh", { port: 2222 }).addTargets("ssh", { targets: [cluster], port: 22 });
    new VagrantCluster(scope, "local", {
      cluster,
      front,
      lifecycle: LifecycleResource.TERRAFORM_DATA,
    });
  }),
);
assert.ok(synth.resource.terraform_data["vagrant_core_core-03"], "a resource per node");
assert.deepEqual(
  loaded(path.join("@cdktf", "provider-aws")),
  [],
  "the root entry point loads no @cdktf/provider-aws",
);
assert.deepEqual(
  loaded(path.join("@cdktf", "provider-null")),
  [],
  "the root entry point loads no @cdktf/provider-null",
);
// This project does not install @cdktf/provider-null: only null_resource asks for it, by name.
assert.throws(
  () =>
    Testing.synthScope((scope) => {
      const cluster = new CoreOsCluster(scope, "core");
      new VagrantCluster(scope, "local", { cluster, lifecycle: LifecycleResource.NULL_RESOURCE });
    }),
  {
    name: "ClusterConfigError",
    message: /lifecycle: got "null_resource"; allowed: .*npm install @cdktf\/provider-null/,
  },
);

const aws = require("coreos-cluster-cdktf/aws");
assert.equal(typeof aws.AwsCluster, "function");
assert.ok(
  loaded(path.join("@cdktf", "provider-aws")).length > 0,
  "the /aws entry point loads @cdktf/provider-aws",
);
assert.equal(require("coreos-cluster-cdktf/package.json").name, "coreos-cluster-cdktf");
assert.throws(() => require("coreos-cluster-cdktf/dist/cluster/plan"), {
  code: "ERR_PACKAGE_PATH_NOT_EXPORTED",
});

console.log("require: ok");
