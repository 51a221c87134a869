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
// COREOS_TEST_FILES=aws,front-config: only these test files (a focused mutation run, see README).
const only = (process.env.COREOS_TEST_FILES ?? "").split(",").filter(Boolean);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const os = require("node:os");

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: only.length > 0 ? only.map((name) => `**/${name}.test.ts`) : ["**/*.test.ts"],
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
  // Two files at a time at least (jest's default on 2 cores is one): with real tools much of
  // the suite waits on tools, servers and the npm registry (npm test 4m50s → 2m50s on 2
  // cores); the unit tests alone too (npm run test:unit 31 s → 22 s at load 3).
  maxWorkers: Math.max(2, os.availableParallelism()),
  // Longest files first, also on a fresh clone without jest's cache of durations.
  testSequencer: "<rootDir>/scripts/jest-sequencer.cjs",
  // Tests that start real servers bound their own time; this is the outer bound.
  testTimeout: 120000,
  setupFilesAfterEnv: ["<rootDir>/__tests__/support/setup.ts"],
};
