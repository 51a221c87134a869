import { spawnSync } from "node:child_process";
import { TerraformStack } from "cdktf";
import { CoreOsCluster } from "../lib";
import { AwsCluster } from "../lib/aws";
import { testApp, freshTestState } from "../__tests__/support/state";
const N = 20;
const t = (label: string, fn: () => void) => {
  const s = Date.now();
  for (let i = 0; i < N; i++) fn();
  console.log(label, (Date.now() - s) / N, "ms");
};
const NET = {
  networkCidr: "10.42.0.0/16",
  subnetCidrs: ["10.42.1.0/24", "10.42.2.0/24"],
  firstHostNumber: 10,
};
t("freshTestState", () => freshTestState());
t("testApp", () => testApp());
t("testApp+stack", () => new TerraformStack(testApp(), "s"));
t("cluster", () => new CoreOsCluster(new TerraformStack(testApp(), "s"), "core", NET));
const state = freshTestState();
t(
  "cluster shared state",
  () => new CoreOsCluster(new TerraformStack(testApp({ stateDir: state }), "s"), "core", NET),
);
t(
  "cluster+ignition",
  () =>
    new CoreOsCluster(new TerraformStack(testApp({ stateDir: state }), "s"), "core", NET).nodes[0]
      .ignition,
);
t("cluster+aws", () => {
  const st = new TerraformStack(testApp({ stateDir: state }), "s");
  new AwsCluster(st, "aws", { cluster: new CoreOsCluster(st, "core", NET) });
});
t("cluster+aws bad", () => {
  const st = new TerraformStack(testApp({ stateDir: state }), "s");
  try {
    new AwsCluster(st, "aws", { cluster: new CoreOsCluster(st, "core", NET), instanceType: "x" });
  } catch {
    /* */
  }
});
t("ignition-validate spawn", () => spawnSync("ignition-validate", ["/dev/null"]));
t("sh spawn", () => spawnSync("sh", ["-c", "true"]));
