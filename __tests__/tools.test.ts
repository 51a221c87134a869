import { inCi } from "./support/tools";

describe("inCi: any truthy CI makes a missing tool fail instead of skip", () => {
  it.each(["true", "1", "yes", "TRUE", "on", "github"])("CI=%s is CI", (v) => {
    expect(inCi({ CI: v })).toBe(true);
  });
  it.each(["", "0", "false", "no", "off", " False "])("CI=%j is not CI", (v) => {
    expect(inCi({ CI: v })).toBe(false);
  });
  it("no CI variable is not CI", () => {
    expect(inCi({})).toBe(false);
  });
});
