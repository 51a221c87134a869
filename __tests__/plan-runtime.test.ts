import {
  assertRuntimeName,
  drainSource,
  parseServersState,
  parseShowStat,
  RuntimeServer,
  runtimeServers,
  SERVER_ADMIN,
  setServerState,
} from "../lib/front/runtime";

/*
 * HAProxy's runtime API as the operations CLI speaks it: the one command it
 * writes to the admin socket (names checked, so nothing else can be appended
 * to it) and the parsers of `show stat` and `show servers state`, read by
 * column name from HAProxy's own header lines.
 */

// `show stat` as HAProxy 2.6 answers it (columns trimmed, order kept): a frontend, two
// servers and the backend's summary row.
const SHOW_STAT = [
  "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,weight,lbtot,",
  "web,FRONTEND,,,3,5,2000,40,OPEN,,,",
  "web-tg,core-01,0,0,2,4,,30,UP,1,25,",
  "web-tg,core-02,0,0,0,1,,10,DRAIN,1,7,",
  "web-tg,core-03,0,0,,,,0,MAINT,1,,",
  "web-tg,BACKEND,0,0,2,5,,40,UP,2,32,",
  "",
].join("\n");

const SERVERS_STATE = [
  "1",
  "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight",
  "4 api-tg 1 core-01 192.168.56.101 2 1 1",
  "3 web-tg 1 core-01 192.168.56.101 2 0 1",
  "3 web-tg 2 core-02 192.168.56.102 2 8 1",
  "3 web-tg 3 core-03 192.168.56.103 0 4 1",
  "",
].join("\n");

describe("runtime commands", () => {
  it("sets a server's state by backend and server name", () => {
    expect(setServerState("web-tg", "core-01", "drain")).toBe(
      "set server web-tg/core-01 state drain",
    );
    expect(setServerState("a", "b_2", "ready")).toBe("set server a/b_2 state ready");
  });

  it("refuses names that could carry another command or another server", () => {
    for (const bad of [
      "web;shutdown sessions",
      "web\nset server x state maint",
      "web/core-02",
      "web tg",
      "Web",
      "1web",
      "",
      `w${"x".repeat(63)}`,
    ]) {
      expect(() => setServerState(bad, "core-01", "maint")).toThrow(
        `not a valid backend name: ${JSON.stringify(bad)}`,
      );
      expect(() => setServerState("web", bad, "maint")).toThrow(
        `not a valid server name: ${JSON.stringify(bad)}`,
      );
    }
    expect(() => assertRuntimeName("backend", `w${"x".repeat(62)}`)).not.toThrow();
  });
});

describe("show stat", () => {
  it("lists servers (not frontends or backend summaries) with status, sessions and picks", () => {
    expect(parseShowStat(SHOW_STAT)).toEqual([
      { backend: "web-tg", server: "core-01", status: "UP", sessions: 2, selected: 25 },
      { backend: "web-tg", server: "core-02", status: "DRAIN", sessions: 0, selected: 7 },
      { backend: "web-tg", server: "core-03", status: "MAINT", sessions: 0, selected: 0 },
    ]);
  });

  it("reads columns by their header names, in any order", () => {
    const reordered = "# status,lbtot,svname,scur,pxname\nUP 1/2,4,core-09,6,api-tg\n";
    expect(parseShowStat(reordered)).toEqual([
      { backend: "api-tg", server: "core-09", status: "UP 1/2", sessions: 6, selected: 4 },
    ]);
    // A column HAProxy does not send reads as empty.
    expect(parseShowStat("# pxname,svname\nweb-tg,core-01\n")).toEqual([
      { backend: "web-tg", server: "core-01", status: "", sessions: 0, selected: 0 },
    ]);
  });

  it("rejects text that is no show stat output", () => {
    for (const bad of ["", "\n \n", "Unknown command.\n", "pxname,svname\n"]) {
      expect(() => parseShowStat(bad)).toThrow(/^not HAProxy "show stat" output: /);
    }
    // The message quotes the first 80 characters only.
    expect(() => parseShowStat(`Permission denied${"x".repeat(200)}`)).toThrow(
      new RegExp(`^not HAProxy "show stat" output: Permission denied${"x".repeat(63)}$`),
    );
  });
});

describe("show servers state", () => {
  it("reads each server's admin state, skipping the version line", () => {
    expect(parseServersState(SERVERS_STATE)).toEqual([
      { backend: "api-tg", server: "core-01", adminState: 1 },
      { backend: "web-tg", server: "core-01", adminState: 0 },
      { backend: "web-tg", server: "core-02", adminState: 8 },
      { backend: "web-tg", server: "core-03", adminState: 4 },
    ]);
  });

  it("skips short lines and rejects text without the header", () => {
    expect(
      parseServersState(
        "1\n# be_id be_name srv_name srv_admin_state\n3 web core-01\n3 web core-02 8\n",
      ),
    ).toEqual([{ backend: "web", server: "core-02", adminState: 8 }]);
    expect(() => parseServersState("1\n# be_name srv_name\n")).toThrow(
      /^not HAProxy "show servers state" output: 1\n# be_name/,
    );
    expect(() => parseServersState(`${"y".repeat(100)}`)).toThrow(
      new RegExp(`^not HAProxy "show servers state" output: ${"y".repeat(80)}$`),
    );
  });
});

describe("runtime servers and drains", () => {
  it("joins both outputs by backend and server", () => {
    const servers = runtimeServers(SHOW_STAT, SERVERS_STATE);
    expect(servers.map((s) => [s.server, s.status, s.adminState])).toEqual([
      ["core-01", "UP", 0],
      ["core-02", "DRAIN", 8],
      ["core-03", "MAINT", 4],
    ]);
    // A server HAProxy gives no state line for counts as not drained.
    const missing = runtimeServers(SHOW_STAT, "1\n# be_id be_name srv_name srv_admin_state\n");
    expect(missing.map((s) => s.adminState)).toEqual([0, 0, 0]);
  });

  it("tells the code's drain (disabled in haproxy.cfg) from a runtime drain or maintenance", () => {
    const at = (adminState: number): RuntimeServer => ({
      backend: "web-tg",
      server: "core-01",
      status: "UP",
      sessions: 0,
      selected: 0,
      adminState,
    });
    expect(SERVER_ADMIN).toEqual({
      FORCED_MAINT: 1,
      INHERITED_MAINT: 2,
      CONFIG_MAINT: 4,
      FORCED_DRAIN: 8,
      INHERITED_DRAIN: 16,
    });
    expect(drainSource(at(0))).toBeUndefined();
    expect(drainSource(at(SERVER_ADMIN.CONFIG_MAINT))).toBe("code");
    expect(drainSource(at(SERVER_ADMIN.CONFIG_MAINT | SERVER_ADMIN.FORCED_DRAIN))).toBe("code");
    expect(drainSource(at(SERVER_ADMIN.FORCED_DRAIN))).toBe("runtime");
    expect(drainSource(at(SERVER_ADMIN.FORCED_MAINT))).toBe("runtime");
    expect(
      drainSource(at(SERVER_ADMIN.INHERITED_DRAIN | SERVER_ADMIN.INHERITED_MAINT)),
    ).toBeUndefined();
  });
});

describe("blank lines", () => {
  it("are skipped in both outputs, also when they hold only spaces", () => {
    const blank = " ".repeat(12);
    expect(parseShowStat(`${SHOW_STAT}${blank}\n`)).toHaveLength(3);
    expect(parseServersState(`${SERVERS_STATE}${blank}\n`)).toHaveLength(4);
  });
});
