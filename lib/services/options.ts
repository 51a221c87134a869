import { Duration } from "../core/duration";
import { SystemdUnit } from "../cluster/props";
import { FrontProtocol, HealthCheck } from "../front/options";
import { NlbFront } from "../front/front";
import { CoreOsCluster } from "../cluster/cluster";

/** When a failover service goes back to a preferred node that is up again (MSCS's failback). */
export class Failback {
  /** Stay where it runs; only a failure or an operator moves it (MSCS's "prevent failback"). */
  public static readonly NEVER = new Failback("never");
  /** Move back as soon as a more preferred node is up and eligible. */
  public static readonly IMMEDIATE = new Failback("immediate");

  /**
   * Move back only while the hour of the day (UTC, the clock of Flatcar and
   * Fedora CoreOS) is from `startHour` to before `endHour`, e.g. `between(2, 5)`;
   * `between(22, 4)` spans midnight.
   */
  public static between(startHour: number, endHour: number): Failback {
    return new Failback("window", startHour, endHour);
  }

  private constructor(
    /** `never`, `immediate` or `window`. */
    public readonly mode: "never" | "immediate" | "window",
    public readonly startHour?: number,
    public readonly endHour?: number,
  ) {}

  public toString(): string {
    return this.mode === "window"
      ? `between ${this.startHour}h and ${this.endHour}h UTC`
      : this.mode;
  }
}

/** What the service's own health check probes on the node that runs it. */
export enum ServiceCheckKind {
  TCP = "tcp",
  HTTP = "http",
  COMMAND = "command",
}

/** Timing of a service health check. */
export interface ServiceCheckOptions {
  /**
   * Time between probes.
   * @default Duration.seconds(2)
   */
  readonly interval?: Duration | undefined;
  /**
   * How long one probe may take; shorter than the interval.
   * @default Duration.seconds(1)
   */
  readonly timeout?: Duration | undefined;
  /**
   * Consecutive failed probes before the service counts as failed (restart in place, then move).
   * @default 3
   */
  readonly failures?: number | undefined;
}

/**
 * The service's own health check, run by the failover agent on the node that
 * runs the service, besides systemd's view of its units (a unit that is not
 * active always counts as a failure).
 */
export class ServiceHealthCheck {
  /** A TCP connect to `port` on the node's address succeeds. */
  public static tcp(port: number, options: ServiceCheckOptions = {}): ServiceHealthCheck {
    return new ServiceHealthCheck(ServiceCheckKind.TCP, options, port);
  }

  /** An HTTP GET of `path` on `port` of the node's address answers 2xx or 3xx. */
  public static http(
    port: number,
    path = "/",
    options: ServiceCheckOptions = {},
  ): ServiceHealthCheck {
    return new ServiceHealthCheck(ServiceCheckKind.HTTP, options, port, path);
  }

  /**
   * A shell command (run by `/bin/sh -c` as root on the node) exits 0. It is
   * your command: it runs as written, one line, at most 1024 characters.
   */
  public static command(command: string, options: ServiceCheckOptions = {}): ServiceHealthCheck {
    return new ServiceHealthCheck(ServiceCheckKind.COMMAND, options, undefined, undefined, command);
  }

  private constructor(
    public readonly kind: ServiceCheckKind,
    public readonly options: ServiceCheckOptions,
    public readonly port?: number,
    public readonly path?: string,
    public readonly command?: string,
  ) {}
}

/** A listener on the front that sends its traffic to whichever node runs the service. */
export interface FailoverListenerProps {
  /** The front to add the listener to (before a target reads the front). */
  readonly front: NlbFront;
  /** Port the front listens on. */
  readonly port: number;
  /**
   * @default FrontProtocol.TCP
   */
  readonly protocol?: FrontProtocol | undefined;
  /**
   * Port of the service on its node.
   * @default - the listener port
   */
  readonly targetPort?: number | undefined;
  /**
   * How the front finds the node that runs the service: only that node answers.
   * @default - the front's default check of the target port
   */
  readonly healthCheck?: HealthCheck | undefined;
}

/** Props of FailoverService. */
export interface FailoverServiceProps {
  /** The cluster whose nodes run the service (add services before passing it to a target). */
  readonly cluster: CoreOsCluster;
  /**
   * Service name: names the agent unit (`failover-<name>.service`), its config and etcd keys.
   * @default - the construct id, lowercased
   */
  readonly name?: string | undefined;
  /**
   * The systemd units that make up the service (MSCS's resources of one group).
   * The failover agent starts them together on the node that owns the service
   * and stops them before the service moves; they are never enabled at boot.
   * Give `contents` for your own units, leave it out for units the OS ships.
   */
  readonly units: readonly SystemdUnit[];
  /**
   * Nodes that may run the service (MSCS's possible owners), as `cluster.nodeNamed(...)`.
   * @default - every node of the cluster
   */
  readonly nodes?: readonly { readonly name: string }[] | undefined;
  /**
   * Preferred nodes, most preferred first (MSCS's preferred owners): the service
   * starts on the first one that is up, and fails back to them per `failback`.
   * @default - none: node order decides where the service starts
   */
  readonly preferredNodes?: readonly { readonly name: string }[] | undefined;
  /**
   * @default Failback.NEVER
   */
  readonly failback?: Failback | undefined;
  /**
   * Failovers allowed within `failoverPeriod`; one more and the service stays
   * offline until an operator brings it online (MSCS's failover threshold).
   * @default - the number of nodes that may run it, minus one (at least 1)
   */
  readonly maxFailovers?: number | undefined;
  /**
   * @default Duration.hours(6)
   */
  readonly failoverPeriod?: Duration | undefined;
  /**
   * The service's own health check, on the node that runs it.
   * @default - none: only systemd's view (a unit that is no longer active)
   */
  readonly healthCheck?: ServiceHealthCheck | undefined;
  /**
   * Restarts in place, within `restartPeriod`, before a failed service moves to another node.
   * @default 1
   */
  readonly restartAttempts?: number | undefined;
  /**
   * @default Duration.minutes(15)
   */
  readonly restartPeriod?: Duration | undefined;
  /**
   * TTL of the owner's etcd lease. A node that dies or loses the etcd majority
   * loses the service after at most this long; it stops its own copy before.
   * @default Duration.seconds(10)
   */
  readonly leaseTtl?: Duration | undefined;
  /**
   * How long the units get to stop (their `TimeoutStopSec`, then SIGKILL).
   * @default Duration.seconds(2)
   */
  readonly stopTimeout?: Duration | undefined;
  /**
   * A front listener that forwards to the node that runs the service.
   * @default - no listener
   */
  readonly listener?: FailoverListenerProps | undefined;
}
