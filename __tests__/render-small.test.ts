import {
  Duration,
  EtcdTls,
  FedoraCoreOsStream,
  OperatingSystem,
  planCluster,
  Provisioning,
} from "../lib";
import { renderPlanSummary } from "../lib/render/plan-summary";
import { literalTerraformString } from "../lib/render/terraform-template";
import { renderUserData } from "../lib/render/user-data";

/*
 * The small renderers: Terraform-literal text, cluster.json (what the
 * operator CLI reads back), the user data a cloud node gets.
 */

describe("literalTerraformString", () => {
  it.each([
    ["${HOME} and %{ if x }", "$${HOME} and %%{ if x }"],
    ["$HOME %d {x} $ { % {", "$HOME %d {x} $ { % {"],
    ["$${a}", "$$${a}"],
    ["${a}${b}%{c}", "$${a}$${b}%%{c}"],
  ])("%j → %j", (text, literal) => {
    expect(literalTerraformString(text)).toBe(literal);
  });
});

describe("cluster.json", () => {
  const ctx = { id: "core", path: "s/core" };

  it("says what each node is and where its config lies", () => {
    const p = planCluster(
      {
        nodeCount: 4,
        standby: 1,
        etcd: { members: 3 },
        nodeFiles: { "core-02": [{ path: "/etc/app/a", contents: "a" }] },
        maintenanceWindow: { start: "04:30", length: Duration.hours(2) },
      },
      ctx,
    );
    const s = JSON.parse(renderPlanSummary(p, "ign", "cc"));
    expect(s.name).toBe("core");
    expect(s.os).toEqual({ family: "flatcar", channel: "stable" });
    expect(s.network).toEqual({ cidr: "192.168.56.0/21", firstHostNumber: 101 });
    expect(s.resources).toEqual({ cpus: 1, memoryMiB: 1024 });
    expect(s.rebootStrategy).toBe(p.rebootStrategy);
    expect(s.maintenanceWindow).toEqual(JSON.parse(JSON.stringify(p.maintenanceWindow)));
    expect(s.provisioning).toBe("ignition");
    expect(s.etcd).toEqual({
      members: ["core-01", "core-02", "core-03"],
      clusterToken: p.etcd.clusterToken,
      imageTag: p.etcd.imageTag,
      image: p.etcd.image.reference,
      clientEndpoints: p.etcd.clientEndpoints,
      discovery: "static",
    });
    expect(s.nodes).toEqual(
      [
        ["core-01", "192.168.56.101", "member", "active"],
        ["core-02", "192.168.56.102", "member", "active"],
        ["core-03", "192.168.56.103", "member", "active"],
        ["core-04", "192.168.56.104", "client", "standby"],
      ].map(([name, address, etcd, state]) => ({
        name,
        address,
        etcd,
        state,
        ...(name === "core-02" ? { files: ["/etc/app/a"] } : {}),
        ignition: `ign/${name}.ign`,
      })),
    );
  });

  it("names the cloud-config files with cloud-config provisioning, no files or window when none", () => {
    const p = planCluster({ nodeCount: 1, provisioning: Provisioning.CLOUD_CONFIG }, ctx);
    const s = JSON.parse(renderPlanSummary(p, "ign", "cc"));
    expect(s.provisioning).toBe("cloud-config");
    expect(s.maintenanceWindow).toBeUndefined();
    expect(s.nodes).toEqual([
      {
        name: "core-01",
        address: "192.168.56.101",
        etcd: "member",
        state: "active",
        ignition: "ign/core-01.ign",
        cloudConfig: "cc/core-01.yml",
      },
    ]);
  });
});

describe("user data", () => {
  it("is the compact Ignition JSON, or the #cloud-config with cloud-config provisioning", () => {
    const ctx = { id: "core", path: "s/core" };
    const tls = EtcdTls.disabled();
    const ign = planCluster({ nodeCount: 1, etcd: { tls } }, ctx);
    const text = renderUserData(ign, ign.nodes[0]);
    expect(JSON.parse(text).ignition.version).toBe("3.3.0");
    expect(text).not.toContain("\n");
    const fcos = planCluster(
      { nodeCount: 1, etcd: { tls }, os: OperatingSystem.fedoraCoreOs(FedoraCoreOsStream.STABLE) },
      ctx,
    );
    expect(JSON.parse(renderUserData(fcos, fcos.nodes[0])).ignition.version).toBe("3.3.0");
    const cc = planCluster(
      { nodeCount: 1, etcd: { tls }, provisioning: Provisioning.CLOUD_CONFIG },
      ctx,
    );
    expect(renderUserData(cc, cc.nodes[0]).startsWith("#cloud-config\n")).toBe(true);
  });
});
