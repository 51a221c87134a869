import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "cdktf.out/",
      "dist/",
      "coverage/",
      "docs/api/",
      "reports/",
      ".stryker-tmp/",
      "**/*.js",
      "**/*.d.ts",
      "!jest.config.js",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "@cdktf/provider-aws",
              message:
                "Import provider classes deeply (@cdktf/provider-aws/lib/<resource>): the index loads every resource.",
            },
            {
              name: "@cdktf/provider-null",
              message: "Import provider classes deeply (@cdktf/provider-null/lib/<resource>).",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["jest.config.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { module: "writable", process: "readonly" },
    },
  },
  {
    // Node's require hook for TypeScript: plain CommonJS, loaded before any TypeScript runs.
    files: ["scripts/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", process: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
