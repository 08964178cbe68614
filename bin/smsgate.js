#!/usr/bin/env node
// Runs the built CLI in dist/cli.js. The build runs on `npm install` in a clone;
// without it, say how to create it instead of printing a module-not-found trace.
import { existsSync } from "node:fs";

const cliUrl = new URL("../dist/cli.js", import.meta.url);

if (!existsSync(cliUrl)) {
  process.stderr.write(
    "smsgate: dist/cli.js is missing because the package has not been built.\n" +
      'Run "npm run build" in the smsgate folder, then try again.\n',
  );
  process.exitCode = 1;
} else {
  const { run } = await import(cliUrl.href);

  await run(process.argv.slice(2));
}
