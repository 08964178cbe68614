import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: {
      index: "src/index.ts",
      twilio: "providers/twilio/index.ts",
      vonage: "providers/vonage/index.ts",
      plivo: "providers/plivo/index.ts",
      generic: "providers/generic/index.ts",
      "stores/sqlite": "src/stores/sqlite.ts",
      "stores/postgres": "src/stores/postgres.ts",
      testing: "src/testing/index.ts",
      // The module require("smsgate/testing") loads, because vitest cannot be loaded with require().
      "testing-commonjs": "src/testing/commonjs.ts",
    },
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    splitting: true,
    treeshake: true,
  },
  {
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    sourcemap: true,
    target: "node20",
    clean: false,
  },
]);
