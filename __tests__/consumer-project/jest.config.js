/** @type {import('ts-jest').JestConfigWithTsJest} */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  setupFilesAfterEnv: ["<rootDir>/setup.js"],
  testMatch: ["**/__tests__/**/*.ts"],
  testPathIgnorePatterns: ["/node_modules/", ".d.ts", ".js"],
};
