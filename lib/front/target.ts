/** One machine a front can send traffic to. */
export interface FrontMember {
  /** Unique name, e.g. `core-02`. */
  readonly name: string;
  /** IPv4 address. */
  readonly address: string;
  /** Standby (the I of N+I): traffic only while fewer than all active members are up. */
  readonly standby: boolean;
  /**
   * Construct path of the CoreOsCluster the member belongs to; undefined for
   * hosts outside any cluster. A target runs only its own cluster's nodes.
   */
  readonly cluster?: string;
}

/** Anything a front can balance over: a CoreOsCluster, or hosts from `FrontTargets`. */
export interface IFrontTarget {
  /** The machines behind this target. */
  frontMembers(): readonly FrontMember[];
}

/** Targets that are not a CoreOsCluster. */
export class FrontTargets {
  /** One host by name and IPv4 address. */
  public static host(
    name: string,
    address: string,
    options: { standby?: boolean } = {},
  ): IFrontTarget {
    const member: FrontMember = { name, address, standby: options?.standby ?? false };
    return { frontMembers: () => [member] };
  }

  private constructor() {}
}
