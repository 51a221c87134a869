/**
 * Files whose tests run real programs (terraform, vagrant, etcd, haproxy, the
 * Ignition engine, npm, node): `npm run test:unit` (COREOS_TEST_TOOLS=skip)
 * leaves them out, and skips the real-tool blocks (describeWithTool) of the
 * other files. `npm test` runs everything.
 */
const TOOL_SUITES = [
  "aws-terraform",
  "consumer",
  "enabled-units",
  "etcd-cluster",
  "failover-lab",
  "failover-policies",
  "front-failover",
  "hostile-strings",
  "properties",
  "ready-check",
  "ts-register",
  "topology-browser",
  "vagrant-lifecycle",
];
const unitOnly = process.env.COREOS_TEST_TOOLS === "skip";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const os = require("node:os");

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  // A user's project, run by consumer.test.ts in a temporary folder.
  testPathIgnorePatterns: [
    "/node_modules/",
    "<rootDir>/__tests__/consumer-project/",
    ...(unitOnly ? TOOL_SUITES.map((name) => `<rootDir>/__tests__/${name}\\.test\\.ts$`) : []),
  ],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: { isolatedModules: true } }],
  },
  moduleFileExtensions: ["ts", "js", "json", "node"],
  // With real tools, three files at a time at least: much of the suite waits on tools, servers,
  // timers and the npm registry (with three the whole suite keeps 2 cores only 60 % busy; jest's
  // default on 2 cores is one file at a time). 2 cores: 4 min 12 s with three at load 2-4,
  // 6-7.5 min with two. The unit tests alone are faster in one process.
  ...(unitOnly ? {} : { maxWorkers: Math.max(3, os.availableParallelism()) }),
  // Tests that start real servers bound their own time; this is the outer bound.
  testTimeout: 120000,
  setupFilesAfterEnv: ["<rootDir>/__tests__/support/setup.ts"],
};
