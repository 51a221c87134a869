import { ClusterConfigError, IssueCollector } from "../lib/core/errors";
import { Duration } from "../lib/core/duration";
import { checkImage, ContainerImage } from "../lib/core/container-image";
import {
  FedoraCoreOsStream,
  FlatcarChannel,
  OperatingSystem,
  OsFamily,
} from "../lib/cluster/operating-system";

/*
 * The small value types every plan builds on: durations (and the texts that
 * reach systemd, locksmithd and error messages), container images, and the
 * operating system choice.
 */

const DIGEST = "a".repeat(64);

describe("Duration", () => {
  it("converts each unit to milliseconds and seconds", () => {
    expect(Duration.millis(1500).toMilliseconds()).toBe(1500);
    expect(Duration.seconds(2).toMilliseconds()).toBe(2000);
    expect(Duration.minutes(3).toMilliseconds()).toBe(180_000);
    expect(Duration.hours(2).toMilliseconds()).toBe(7_200_000);
    expect(Duration.millis(1500).toSeconds()).toBe(1.5);
  });

  it("shows whole seconds as seconds, anything else as milliseconds", () => {
    expect(Duration.minutes(1).toString()).toBe("60s");
    expect(Duration.millis(1001).toString()).toBe("1001ms");
    expect(Duration.millis(0).toString()).toBe("0s");
  });

  it("writes Go durations of whole minutes (locksmithd's window length)", () => {
    expect(Duration.hours(1).toGoMinutes()).toBe("1h");
    expect(Duration.minutes(90).toGoMinutes()).toBe("1h30m");
    expect(Duration.minutes(45).toGoMinutes()).toBe("45m");
    expect(Duration.millis(0).toGoMinutes()).toBe("0m");
    expect(Duration.hours(168).toGoMinutes()).toBe("168h");
    // Rounded to the nearest minute.
    expect(Duration.seconds(89).toGoMinutes()).toBe("1m");
    expect(Duration.seconds(91).toGoMinutes()).toBe("2m");
  });
});

describe("ContainerImage", () => {
  it("keeps the reference and whether it is pinned", () => {
    const pinned = ContainerImage.pinned(`quay.io/coreos/etcd:v3.5.21@sha256:${DIGEST}`);
    expect(pinned.pinned).toBe(true);
    expect(pinned.problem()).toBeUndefined();
    expect(String(pinned)).toBe(`quay.io/coreos/etcd:v3.5.21@sha256:${DIGEST}`);
    const tag = ContainerImage.unpinned("quay.io/coreos/etcd:v3.5.21");
    expect(tag.pinned).toBe(false);
    expect(tag.problem()).toBeUndefined();
  });

  it("finds a pinned image without a digest a problem", () => {
    expect(ContainerImage.pinned("quay.io/coreos/etcd:v3.5.21").problem()).toMatch(/sha256/);
  });

  it("checkImage names the prop, the reference and the problem", () => {
    const issues = new IssueCollector();
    expect(checkImage(issues, "etcd.image", ContainerImage.unpinned("quay.io/e:v1"))).toBe(true);
    expect(issues.issues).toEqual([]);
    expect(checkImage(issues, "etcd.image", ContainerImage.pinned("quay.io/e:v1"))).toBe(false);
    expect(issues.issues[0]).toMatchObject({ prop: "etcd.image", value: "quay.io/e:v1" });
    expect(checkImage(issues, "front.image", "haproxy:2.6")).toBe(false);
    expect(issues.issues[1]).toEqual({
      prop: "front.image",
      value: "haproxy:2.6",
      allowed: 'ContainerImage.pinned("repo:tag@sha256:…") or ContainerImage.unpinned("repo:tag")',
    });
  });
});

describe("OperatingSystem", () => {
  it("defaults to the stable channel or stream", () => {
    expect(OperatingSystem.flatcar().toString()).toBe("flatcar/stable");
    expect(OperatingSystem.fedoraCoreOs().toString()).toBe("fedora-coreos/stable");
    expect(OperatingSystem.of("flatcar").channel).toBe("stable");
    expect(OperatingSystem.flatcar(FlatcarChannel.LTS)).toMatchObject({
      family: OsFamily.FLATCAR,
      channel: "lts",
    });
    expect(OperatingSystem.fedoraCoreOs(FedoraCoreOsStream.TESTING)).toMatchObject({
      family: OsFamily.FEDORA_COREOS,
      channel: "testing",
    });
  });

  it("takes each family's own channels only", () => {
    expect(OperatingSystem.of("flatcar", "alpha").channel).toBe("alpha");
    expect(OperatingSystem.of("fedora-coreos", "next").channel).toBe("next");
    const wrong = (() => {
      try {
        OperatingSystem.of("fedora-coreos", "lts");
      } catch (e) {
        return e as ClusterConfigError;
      }
      throw new Error("accepted lts on Fedora CoreOS");
    })();
    expect(wrong).toBeInstanceOf(ClusterConfigError);
    expect(wrong.subject).toBe("OperatingSystem");
    expect(wrong.issues).toEqual([
      { prop: "os.channel", value: "lts", allowed: "for fedora-coreos: stable | testing | next" },
    ]);
    expect(() => OperatingSystem.of("flatcar", "next")).toThrow(
      /os\.channel: got "next"; allowed: for flatcar: stable \| beta \| alpha \| lts/,
    );
  });

  it("names the families when one is unknown", () => {
    expect(() => OperatingSystem.of("coreos")).toThrow(
      /os\.family: got "coreos"; allowed: flatcar \| fedora-coreos/,
    );
  });
});
