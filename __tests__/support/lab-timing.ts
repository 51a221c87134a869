import * as fs from "node:fs";
import { ServiceTimingPlan } from "../../lib/services/plan";
import { HaproxyConfig, haproxyMs } from "./haproxy-config";
import { KeepalivedBlock } from "./keepalived-config";

/*
 * How long each failure may take by the configuration the lab runs: the worst
 * case that the generated haproxy.cfg and keepalived.conf (and the service's
 * timing plan) allow, read from those files, not typed in. The lab's bounds are
 * relative to these figures, so a slower setting moves them along, and a
 * reaction slower than its own configuration fails wherever the defaults are.
 */

export interface PlannedTimes {
  /** A node's link goes down → HAProxy marks it DOWN (last check before, then fall failed checks). */
  readonly nodeDownMs: number;
  /** A request sent to a dead node waits this long before HAProxy retries it elsewhere. */
  readonly retryMs: number;
  /** The front holding the address goes silent → the backup's master-down timer expires. */
  readonly frontSilentMs: number;
  /** HAProxy dies on the front holding the address → its probe fails `fall` times. */
  readonly haproxyDeadMs: number;
  /** The service's timing plan (lease, renewals, fencing). */
  readonly service: ServiceTimingPlan;
}

/**
 * A bound for a reaction planned to take `plannedMs` at most: twice that, plus a second for a
 * shared machine's scheduling (processes of five namespaces on two cores, busy loops in
 * `scripts/stress.sh`). Lab figures are about 0.7–0.9 of the planned worst case
 * (docs/figures.md); the bound rules out a reaction that ignores its configuration.
 */
export function within(plannedMs: number): number {
  return 2 * plannedMs + 1000;
}

/** The planned worst cases of the lab's stack, read from its generated files. */
export function plannedTimes(
  haproxyCfgPath: string,
  keepalivedConfs: readonly string[],
  service: ServiceTimingPlan,
): PlannedTimes {
  const cfg = new HaproxyConfig(fs.readFileSync(haproxyCfgPath, "utf8"));
  const web = cfg.backend("be_web");
  const inter = haproxyMs(web.defaults.inter);
  const fastinter = haproxyMs(web.defaults.fastinter ?? web.defaults.inter);
  const fall = Number(web.defaults.fall);
  // A check of a silent address ends at its timeout (connect, bounded by `timeout check`).
  const check = haproxyMs(web.timeouts.check);
  const retryMs = Math.max(
    haproxyMs(HaproxyConfig.one(cfg.defaults, "timeout", "connect")[0]),
    ...HaproxyConfig.find(cfg.section("backend", "be_web"), "http-request", "set-timeout").map(
      (d) => haproxyMs(d[3]), // http-request set-timeout server <time> if …
    ),
  );

  const instances = keepalivedConfs.map((text) =>
    KeepalivedBlock.parse(text).block("vrrp_instance", "front"),
  );
  const advertMs = Math.max(...instances.map((v) => Number(v.value("advert_int")) * 1000));
  const lowest = Math.min(...instances.map((v) => Number(v.value("priority"))));
  // RFC 5798: Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time.
  const frontSilentMs = 3 * advertMs + ((256 - lowest) / 256) * advertMs;
  const probe = KeepalivedBlock.parse(keepalivedConfs[0]).block("vrrp_script", "haproxy_alive");
  const haproxyDeadMs =
    Number(probe.value("interval")) * 1000 * Number(probe.value("fall")) +
    Number(probe.value("timeout")) * 1000 +
    advertMs;

  return {
    nodeDownMs: inter + check + (fall - 1) * (fastinter + check),
    retryMs,
    frontSilentMs,
    haproxyDeadMs,
    service,
  };
}
