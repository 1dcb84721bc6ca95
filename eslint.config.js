import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  globalIgnores(["dist/", "src/generated/", "node_modules/", "coverage/"]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // The pages under public/ run in a browser, as plain scripts (uPlot and Swagger UI load as globals).
    files: ["public/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { window: "readonly", document: "readonly", fetch: "readonly", setInterval: "readonly", uPlot: "readonly", SwaggerUIBundle: "readonly" },
    },
  },
  {
    rules: {
      // `_`-prefixed names mark deliberately unused parameters (e.g. Express's 4-argument error handler).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
