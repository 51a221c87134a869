import { ClusterConfigError } from "../core/errors";

/** The container-optimised OS families a cluster can run. */
export enum OsFamily {
  /** Flatcar Container Linux, CoreOS Container Linux's direct successor. */
  FLATCAR = "flatcar",
  /** Fedora CoreOS: Ignition only, updates through Zincati. */
  FEDORA_COREOS = "fedora-coreos",
}

/** Flatcar release channels. */
export enum FlatcarChannel {
  STABLE = "stable",
  BETA = "beta",
  ALPHA = "alpha",
  LTS = "lts",
}

/** Fedora CoreOS update streams. */
export enum FedoraCoreOsStream {
  STABLE = "stable",
  TESTING = "testing",
  NEXT = "next",
}

const CHANNELS: Record<OsFamily, readonly string[]> = {
  [OsFamily.FLATCAR]: Object.values(FlatcarChannel),
  [OsFamily.FEDORA_COREOS]: Object.values(FedoraCoreOsStream),
};

/**
 * The OS of every node and the channel it follows. An open choice, so a class
 * with static factories: the factories pair each family with its own channels.
 */
export class OperatingSystem {
  /** Flatcar Container Linux on the given channel. @default FlatcarChannel.STABLE */
  public static flatcar(channel: FlatcarChannel = FlatcarChannel.STABLE): OperatingSystem {
    return OperatingSystem.of(OsFamily.FLATCAR, channel);
  }

  /** Fedora CoreOS on the given stream. @default FedoraCoreOsStream.STABLE */
  public static fedoraCoreOs(
    stream: FedoraCoreOsStream = FedoraCoreOsStream.STABLE,
  ): OperatingSystem {
    return OperatingSystem.of(OsFamily.FEDORA_COREOS, stream);
  }

  /**
   * From plain strings (config files, environment variables, JavaScript callers).
   * Rejects an unknown family or a channel the family does not publish.
   */
  public static of(family: string, channel?: string): OperatingSystem {
    const families = Object.values(OsFamily) as string[];
    if (!families.includes(family)) {
      throw new ClusterConfigError("OperatingSystem", [
        { prop: "os.family", value: family, allowed: families.join(" | ") },
      ]);
    }
    const fam = family as OsFamily;
    const chosen = channel ?? "stable";
    if (!CHANNELS[fam].includes(chosen)) {
      throw new ClusterConfigError("OperatingSystem", [
        {
          prop: "os.channel",
          value: chosen,
          allowed: `for ${fam}: ${CHANNELS[fam].join(" | ")}`,
        },
      ]);
    }
    return new OperatingSystem(fam, chosen);
  }

  private constructor(
    /** The OS family. */
    public readonly family: OsFamily,
    /** The release channel (Flatcar) or update stream (Fedora CoreOS). */
    public readonly channel: string,
  ) {}

  /** Human-readable form, e.g. `flatcar/stable`. */
  public toString(): string {
    return `${this.family}/${this.channel}`;
  }
}
