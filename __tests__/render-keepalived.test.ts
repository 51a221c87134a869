import { KEEPALIVED_ADVERT_INTERVAL_S, renderKeepalivedConf } from "../lib/render/keepalived";
import { KeepalivedBlock } from "./support/keepalived-config";

/*
 * keepalived.conf read back by the test reader: what decides who holds the
 * front's address and when it moves. `keepalived -t` and the running pair
 * are in front-failover.test.ts.
 */

const conf = (peers: string[]) =>
  KeepalivedBlock.parse(
    renderKeepalivedConf({
      routerName: "front-02",
      interface: "eth1",
      virtualRouterId: 42,
      priority: 100,
      address: "192.168.56.12",
      peers,
      virtualAddress: "192.168.56.10",
      prefixLength: 21,
      monitorPort: 18484,
    }),
  );

describe("keepalived.conf", () => {
  it("holds the virtual address on the given interface with unicast VRRPv3 to every peer only", () => {
    const vrrp = conf(["192.168.56.11", "192.168.56.13"]).block("vrrp_instance", "front");
    expect(vrrp.value("interface")).toBe("eth1");
    expect(vrrp.value("virtual_router_id")).toBe("42");
    expect(vrrp.value("priority")).toBe("100");
    expect(vrrp.value("version")).toBe("3");
    expect(Number(vrrp.value("advert_int"))).toBe(KEEPALIVED_ADVERT_INTERVAL_S);
    expect(KEEPALIVED_ADVERT_INTERVAL_S).toBe(0.3);
    expect(vrrp.value("unicast_src_ip")).toBe("192.168.56.12");
    expect(vrrp.has("check_unicast_src")).toBe(true);
    expect(vrrp.entries("unicast_peer")).toEqual([["192.168.56.11"], ["192.168.56.13"]]);
    expect(vrrp.entries("virtual_ipaddress")).toEqual([["192.168.56.10/21", "dev", "eth1"]]);
  });

  it("starts as backup and does not preempt: the address moves on failure, not back", () => {
    const vrrp = conf(["192.168.56.11"]).block("vrrp_instance", "front");
    expect(vrrp.value("state")).toBe("BACKUP");
    expect(vrrp.has("nopreempt")).toBe(true);
    expect(vrrp.entries("track_script")).toEqual([["haproxy_alive"]]);
  });

  it("gives the address up once HAProxy's loopback liveness URL fails", () => {
    const c = conf(["192.168.56.11"]);
    const script = c.block("vrrp_script", "haproxy_alive");
    expect(script.value("script")).toBe(
      "/bin/sh -c '/usr/bin/wget -q -T 1 -O /dev/null http://127.0.0.1:18484/healthz || { sleep 0.2; /usr/bin/wget -q -T 1 -O /dev/null http://127.0.0.1:18484/healthz; }'",
    );
    expect([script.value("interval"), script.value("timeout")]).toEqual(["1", "3"]);
    expect([script.value("fall"), script.value("rise")]).toEqual(["1", "2"]);
    const global = c.block("global_defs");
    expect(global.value("router_id")).toBe("front-02");
    expect(global.has("enable_script_security")).toBe(true);
    expect(global.value("script_user")).toBe("root");
  });
});
