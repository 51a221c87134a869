import "cdktf/lib/testing/adapters/jest"; // types of cdktf's expect matchers
import { Testing } from "cdktf";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { CoreOsCluster, LifecycleResource, VagrantCluster } from "coreos-cluster-cdktf";
import { PlatformStack } from "../platform";
import { PlatformAwsStack } from "../platform-aws";

// Built into Terraform: no binding class, so the matcher gets the type name.
const terraformData = { tfResourceType: "terraform_data" };

describe("PlatformStack", () => {
  it("runs each node as a resource named after it that brings it up with vagrant", () => {
    const synth = Testing.synthScope((scope) => {
      const cluster = new CoreOsCluster(scope, "core", { nodeCount: 2 });
      new VagrantCluster(scope, "local", { cluster, lifecycle: LifecycleResource.TERRAFORM_DATA });
    });
    expect(synth).toHaveResourceWithProperties(terraformData, {
      input: expect.objectContaining({ name: "core-02" }),
      provisioner: expect.arrayContaining([
        {
          "local-exec": expect.objectContaining({
            command: expect.stringContaining("'vagrant' 'up' '--provider' 'virtualbox' 'core-02'"),
          }),
        },
      ]),
    });
    expect(synth).not.toHaveResourceWithProperties(terraformData, {
      input: expect.objectContaining({ name: "core-03" }),
    });
  });

  it("holds the user's own resource next to the cluster", () => {
    const synth = Testing.synth(new PlatformStack(Testing.app(), "test", { nodeCount: 3 }));
    expect(synth).toHaveResourceWithProperties(terraformData, {
      input: { nodes: ["core-01", "core-02", "core-03"] },
    });
  });

  it("is valid Terraform", () => {
    const stack = new PlatformStack(Testing.app(), "test");
    expect(Testing.fullSynth(stack)).toBeValidTerraform();
  });

  it("matches the snapshot", () => {
    expect(Testing.synth(new PlatformStack(Testing.app(), "test"))).toMatchSnapshot();
  });
});

describe("PlatformAwsStack", () => {
  it("puts the front on an AWS Network Load Balancer", () => {
    const synth = Testing.synth(new PlatformAwsStack(Testing.app(), "test"));
    expect(synth).toHaveResourceWithProperties(Lb, { load_balancer_type: "network" });
  });
});
