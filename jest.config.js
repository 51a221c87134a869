/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  // A user's project, run by consumer.test.ts in a temporary folder.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/__tests__/consumer-project/"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: { isolatedModules: true } }],
  },
  moduleFileExtensions: ["ts", "js", "json", "node"],
  // Tests that start real servers bound their own time; this is the outer bound.
  testTimeout: 120000,
  setupFilesAfterEnv: ["<rootDir>/__tests__/support/setup.ts"],
};
