import {
  defaultInstallTarget,
  hasInstallTargets,
  parseInstallSection,
} from "../lib/core/systemd-install";
import {
  enablementLinks,
  installSectionOf,
  startsAtBoot,
  withEnabledUnitLinks,
} from "../lib/render/enabled-units";
import { IgnitionConfig, IgnitionUnit } from "../lib/render/ignition";

/*
 * The links `systemctl enable` would make, worked out at synth: which
 * targets want a unit, read from its [Install] section as systemd reads it.
 * enabled-units.test.ts (npm test) compares them with `systemctl --root
 * enable` and boots them through the Ignition engine.
 */

/** path → target of the links, sorted by path. */
const links = (units: IgnitionUnit[]) =>
  Object.fromEntries(
    enablementLinks(units)
      .map((l) => {
        expect([l.hard, l.overwrite]).toEqual([false, true]);
        return [l.path, l.target] as const;
      })
      .sort(([a], [b]) => a.localeCompare(b)),
  );

describe("parseInstallSection", () => {
  it("reads every list key, joins continuation lines, skips comments and other sections", () => {
    const s = parseInstallSection(
      [
        "[Unit]",
        "WantedBy=not-install.target",
        "[Install]",
        "# WantedBy=commented.target",
        "   # WantedBy=indented-comment.target",
        "  Also=indented.socket",
        "; Alias=commented.service",
        "WantedBy=a.target \\",
        "  b.target",
        "RequiredBy = c.target",
        "UpheldBy=d.target",
        "Alias=x.service y.service",
        "Also=z.socket",
        "DefaultInstance=one",
        "NoEquals",
        "WantedByX",
        "Unknown=u",
        "[Service]",
        "WantedBy=service-section.target",
      ].join("\r\n"),
    );
    expect(s).toEqual({
      wantedBy: ["a.target", "b.target"],
      requiredBy: ["c.target"],
      upheldBy: ["d.target"],
      alias: ["x.service", "y.service"],
      also: ["indented.socket", "z.socket"],
      defaultInstance: "one",
    });
  });

  it("a drop-in adds to the lists; an empty assignment resets one; the last DefaultInstance wins", () => {
    const s = parseInstallSection(
      "[Install]\nWantedBy=a.target\nRequiredBy=r.target\nDefaultInstance=one\n",
      "[Install]\nWantedBy=\nWantedBy=b.target\nDefaultInstance=two\n",
      "[Install]\nRequiredBy=s.target\n",
    );
    expect([s.wantedBy, s.requiredBy, s.defaultInstance]).toEqual([
      ["b.target"],
      ["r.target", "s.target"],
      "two",
    ]);
    expect(
      parseInstallSection("[Install]\nDefaultInstance=one\n", "[Install]\nDefaultInstance=\n")
        .defaultInstance,
    ).toBeUndefined();
  });

  it("a trailing continuation at the end of the file still counts", () => {
    expect(parseInstallSection("[Install]\nWantedBy=a.target \\").wantedBy).toEqual(["a.target"]);
  });

  it("comment lines inside a continuation are dropped, an empty line ends it (as systemctl enable reads them)", () => {
    const s = parseInstallSection(
      "[Install]\nWantedBy=a.target \\\n# comment\n; comment\n  b.target\nRequiredBy=c.target \\\n\nAlias=d.service\n",
    );
    expect([s.wantedBy, s.requiredBy, s.alias]).toEqual([
      ["a.target", "b.target"],
      ["c.target"],
      ["d.service"],
    ]);
  });

  it("hasInstallTargets: any wants, requires, upholds or alias link; Also alone is none", () => {
    const none = parseInstallSection("[Install]\nAlso=x.service\n");
    expect(hasInstallTargets(none)).toBe(false);
    for (const key of ["WantedBy", "RequiredBy", "UpheldBy", "Alias"]) {
      expect(hasInstallTargets(parseInstallSection(`[Install]\n${key}=x.target\n`))).toBe(true);
    }
  });

  it.each([
    ["a.socket", "sockets.target"],
    ["a.timer", "timers.target"],
    ["a.path", "paths.target"],
    ["a.service", "multi-user.target"],
    ["a.mount", "multi-user.target"],
  ])("the default target of %s is %s", (unit, target) => {
    expect(defaultInstallTarget(unit)).toBe(target);
  });
});

describe("enablementLinks", () => {
  it("links a unit with contents to /etc from each target's .wants, .requires and .upholds, and its aliases", () => {
    expect(
      links([
        {
          name: "a.service",
          enabled: true,
          contents:
            "[Install]\nWantedBy=multi-user.target\nRequiredBy=b.target\nUpheldBy=c.target\nAlias=a2.service\n",
        },
      ]),
    ).toEqual({
      "/etc/systemd/system/a2.service": "/etc/systemd/system/a.service",
      "/etc/systemd/system/b.target.requires/a.service": "/etc/systemd/system/a.service",
      "/etc/systemd/system/c.target.upholds/a.service": "/etc/systemd/system/a.service",
      "/etc/systemd/system/multi-user.target.wants/a.service": "/etc/systemd/system/a.service",
    });
  });

  it("only enabled units with an [Install] target", () => {
    const install = "[Install]\nWantedBy=multi-user.target\n";
    expect(
      links([
        { name: "off.service", enabled: false, contents: install },
        { name: "unsaid.service", contents: install },
        { name: "noinstall.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n" },
      ]),
    ).toEqual({});
  });

  it("a unit the OS ships: its type's target plus its drop-ins', pointing into /usr", () => {
    expect(
      links([
        { name: "docker.socket", enabled: true },
        {
          name: "docker.service",
          enabled: true,
          dropins: [
            { name: "10.conf", contents: "[Install]\nWantedBy=multi-user.target b.target\n" },
          ],
        },
        { name: "getty@tty2.service", enabled: true },
      ]),
    ).toEqual({
      "/etc/systemd/system/b.target.wants/docker.service": "/usr/lib/systemd/system/docker.service",
      "/etc/systemd/system/multi-user.target.wants/docker.service":
        "/usr/lib/systemd/system/docker.service",
      "/etc/systemd/system/multi-user.target.wants/getty@tty2.service":
        "/usr/lib/systemd/system/getty@.service",
      "/etc/systemd/system/sockets.target.wants/docker.socket":
        "/usr/lib/systemd/system/docker.socket",
    });
  });

  it("a template is linked as its default instance, or not at all without one", () => {
    const template = (extra: string): IgnitionUnit => ({
      name: "worker@.service",
      enabled: true,
      contents: `[Service]\nExecStart=/bin/true %i\n[Install]\nWantedBy=multi-user.target\n${extra}`,
    });
    expect(links([template("DefaultInstance=one\n")])).toEqual({
      "/etc/systemd/system/multi-user.target.wants/worker@one.service":
        "/etc/systemd/system/worker@.service",
    });
    expect(links([template("")])).toEqual({});
    expect(
      links([
        {
          name: "worker@two.service",
          enabled: true,
          contents: "[Install]\nWantedBy=multi-user.target\n",
        },
      ]),
    ).toEqual({
      "/etc/systemd/system/multi-user.target.wants/worker@two.service":
        "/etc/systemd/system/worker@two.service",
    });
  });

  it("startsAtBoot: enabled and linked somewhere", () => {
    const install = "[Install]\nWantedBy=multi-user.target\n";
    expect(startsAtBoot({ name: "a.service", enabled: true, contents: install })).toBe(true);
    expect(startsAtBoot({ name: "a.service", enabled: false, contents: install })).toBe(false);
    expect(startsAtBoot({ name: "a.service", enabled: true, contents: "[Service]\n" })).toBe(false);
    expect(startsAtBoot({ name: "a.service", enabled: true })).toBe(true);
  });

  it("installSectionOf a shipped unit lists its type's target once", () => {
    const s = installSectionOf({
      name: "a.timer",
      dropins: [{ name: "x.conf", contents: "[Install]\nWantedBy=timers.target other.target\n" }],
    });
    expect(s.wantedBy).toEqual(["timers.target", "other.target"]);
  });
});

describe("withEnabledUnitLinks", () => {
  const config = (units: IgnitionUnit[], links?: IgnitionConfig["storage"]["links"]) =>
    ({
      ignition: { version: "3.3.0" },
      passwd: { users: [] },
      storage: { files: [], ...(links ? { links } : {}) },
      systemd: { units },
    }) as IgnitionConfig;

  it("adds the links after the config's own, never twice for a path the config links itself", () => {
    const own = {
      path: "/etc/systemd/system/multi-user.target.wants/a.service",
      target: "/dev/null",
      hard: false,
      overwrite: true,
    };
    const other = { path: "/etc/x", target: "/etc/y", hard: false, overwrite: true };
    const out = withEnabledUnitLinks(
      config(
        [
          {
            name: "a.service",
            enabled: true,
            contents: "[Install]\nWantedBy=multi-user.target b.target\n",
          },
        ],
        [other, own],
      ),
    );
    expect(out.storage.links?.map((l) => [l.path, l.target])).toEqual([
      ["/etc/x", "/etc/y"],
      ["/etc/systemd/system/multi-user.target.wants/a.service", "/dev/null"],
      ["/etc/systemd/system/b.target.wants/a.service", "/etc/systemd/system/a.service"],
    ]);
    const first = withEnabledUnitLinks(config([{ name: "a.socket", enabled: true }]));
    expect(first.storage.links?.map((l) => l.path)).toEqual([
      "/etc/systemd/system/sockets.target.wants/a.socket",
    ]);
  });

  it("leaves a config without enabled units as it is", () => {
    const c = config([{ name: "a.service", enabled: false }]);
    expect(withEnabledUnitLinks(c)).toBe(c);
  });
});
