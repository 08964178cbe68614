import { runServe } from "../src/cli/serve.js";

const controller = new AbortController();
process.chdir(process.argv[2]!);
const code = await runServe(
  [],
  { stdout: process.stdout, stderr: process.stderr, env: {} },
  {
    shutdownSignal: controller.signal,
    onListening: async (server) => {
      await fetch(`${server.url}/healthz`);
      await fetch(`${server.url}/webhooks/twilio/inbound`, {
        method: "POST",
        body: "From=%2B14155550143",
      });
      controller.abort();
    },
  },
);
console.log("exit", code);
