import { Duration } from "../core/duration";
import { IFrontTarget } from "./target";

/** How a listener handles traffic. */
export enum FrontProtocol {
  /** Layer 4: whole TCP connections are balanced. */
  TCP = "tcp",
  /** HTTP-aware: each request is balanced; failed idempotent requests are retried on another node. */
  HTTP = "http",
}

/** How the front probes a target. */
export enum HealthCheckProtocol {
  /** A TCP connect succeeds. */
  TCP = "tcp",
  /** An HTTP GET of `path` answers 200-399. */
  HTTP = "http",
}

/** Which healthy target a new connection or request goes to. */
export enum Balancing {
  /** Each target in turn. */
  ROUND_ROBIN = "round_robin",
  /** The target with the fewest open connections. */
  LEAST_CONNECTIONS = "least_connections",
}

/** Windows NLB's client affinity modes. */
export enum ClientAffinity {
  /** No affinity: any request may go to any healthy target. */
  NONE = "none",
  /** Single: all connections from one client IP go to the same target while it is healthy. */
  SINGLE = "single",
  /** Network: all clients of one IPv4 /24 go to the same target while it is healthy. */
  NETWORK = "network",
}

/** Health check of a target group. */
export interface HealthCheck {
  /**
   * Probe type.
   * @default HealthCheckProtocol.HTTP for HTTP listeners, HealthCheckProtocol.TCP for TCP listeners
   */
  readonly protocol?: HealthCheckProtocol | undefined;
  /**
   * Path of the HTTP probe.
   * @default "/"
   */
  readonly path?: string | undefined;
  /**
   * Port probed on each target.
   * @default - the target port
   */
  readonly port?: number | undefined;
  /**
   * Time between probes.
   * @default - 500 ms on the local HAProxy front; 10 s on AWS (whose minimum is 5 s)
   */
  readonly interval?: Duration | undefined;
  /**
   * How long a probe may take; must be shorter than the interval.
   * @default - the interval
   */
  readonly timeout?: Duration | undefined;
  /**
   * Consecutive successful probes before a target takes traffic again.
   * @default 2
   */
  readonly healthyThreshold?: number | undefined;
  /**
   * Consecutive failed probes before a target stops getting traffic.
   * @default 2
   */
  readonly unhealthyThreshold?: number | undefined;
}

/** Props of `NlbFront.addListener`. */
export interface ListenerProps {
  /** Port the front listens on. */
  readonly port: number;
  /**
   * @default FrontProtocol.TCP
   */
  readonly protocol?: FrontProtocol | undefined;
}

/** Props of `FrontListener.addTargets`. */
export interface TargetGroupProps {
  /** What gets the traffic: a CoreOsCluster, `FrontTargets.host(...)`, … */
  readonly targets: readonly IFrontTarget[];
  /** Port on each target. */
  readonly port: number;
  /** @default - see HealthCheck */
  readonly healthCheck?: HealthCheck | undefined;
  /** @default Balancing.ROUND_ROBIN */
  readonly balancing?: Balancing | undefined;
  /** @default ClientAffinity.NONE */
  readonly affinity?: ClientAffinity | undefined;
}
