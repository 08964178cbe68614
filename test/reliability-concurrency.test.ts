import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyForwardSignature } from "../src/cli/forward.js";
import type { ConsentEvent } from "../src/consent/types.js";
import type { WebhookRequest } from "../src/provider.js";
import { openSqliteStore } from "../src/stores/sqlite.js";
import { makeTempDir, removeTempDir, runCli } from "./helpers/cli.js";
import {
  deliverRequest,
  type ProviderApis,
  startProviderApis,
  twilioInbound,
  vonageInbound,
  writeProvidersServerConfig,
} from "./helpers/providers.js";
import { killRunningServers, launchServer, type ServerProcess } from "./helpers/server-process.js";
import { readHistories, testNumber } from "./helpers/webhooks.js";

const forwardSecret = "forward-secret-for-concurrency-tests";
const optOutReply = "You are unsubscribed and will get no more messages.";

/** A forwarded event as the receiving application received it. */
interface ForwardedPost {
  id: string;
  type: string;
  signed: boolean;
}

let apis: ProviderApis;
let dir: string;
let dbPath: string;
let configPath: string;
let server: ServerProcess;
let receiver: Server;
const forwarded: ForwardedPost[] = [];

/** Starts the application that receives forwarded events and accepts every post. */
async function startReceiver(): Promise<string> {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];

    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const header = request.headers["x-smsgate-signature"];
      const event = JSON.parse(body.toString("utf8")) as { id: string; type: string };

      forwarded.push({
        id: event.id,
        type: event.type,
        signed: verifyForwardSignature(forwardSecret, header as string | undefined, body),
      });
      response.writeHead(200).end();
    });
  });

  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));

  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
}

beforeAll(async () => {
  apis = await startProviderApis();
  dir = await makeTempDir("smsgate-concurrency-");
  ({ dbPath, configPath } = await writeProvidersServerConfig(dir, apis, {
    forward: { url: await startReceiver(), secret: forwardSecret },
    replies: { optOut: optOutReply },
  }));
  server = await launchServer(configPath, { cwd: dir });
});

afterAll(async () => {
  const exit = await server?.kill("SIGTERM");

  await killRunningServers();
  await new Promise((resolve) => receiver?.close(resolve));
  await apis?.close();
  await removeTempDir(dir);
  expect(exit?.code).toBe(0);
});

function deliver(request: WebhookRequest) {
  return deliverRequest(server.url, request);
}

/** Waits up to 10 s until the receiver has an event whose id contains `marker`. */
async function waitForForwarded(marker: string): Promise<void> {
  const deadline = Date.now() + 10_000;

  while (!forwarded.some((post) => post.id.includes(marker))) {
    if (Date.now() > deadline) {
      throw new Error(`no forwarded event for ${marker} within 10 s`);
    }

    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Returns the event that decides the state: newest by time, then by commit order. */
function newestEvent(history: ConsentEvent[]): ConsentEvent | undefined {
  let newest: ConsentEvent | undefined;

  for (const event of history) {
    if (newest === undefined || event.occurredAt.getTime() >= newest.occurredAt.getTime()) {
      newest = event;
    }
  }

  return newest;
}

async function optedOut(phones: readonly string[]): Promise<Map<string, boolean>> {
  const store = openSqliteStore({ path: dbPath, readonly: true });
  const states = new Map<string, boolean>();

  try {
    for (const phone of phones) {
      states.set(phone, await store.isOptedOut(phone));
    }
  } finally {
    await store.close();
  }

  return states;
}

describe("one webhook delivered 100 times at once", () => {
  it("records one event, one reply, one forward", async () => {
    const phone = testNumber(3000);
    const messageSid = `SM${"7".repeat(32)}`;
    const stop = twilioInbound(apis, { from: phone, text: "STOP", messageSid });
    const answers = await Promise.all(Array.from({ length: 100 }, () => deliver(stop)));

    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(answers.filter((answer) => answer.body.includes(optOutReply))).toHaveLength(1);

    const history = (await readHistories(dbPath, [phone])).get(phone) ?? [];

    expect(history).toHaveLength(1);

    // Outbox entries are posted in commit order, so once a later webhook's events arrived,
    // any extra copy of the first one would have arrived too.
    const markerSid = `SM${"8".repeat(32)}`;

    await deliver(
      twilioInbound(apis, { from: testNumber(3001), text: "STOP", messageSid: markerSid }),
    );
    await waitForForwarded(markerSid);

    const posts = forwarded.filter((post) => post.id.includes(messageSid));

    expect(posts.map((post) => post.type).sort()).toEqual(["inbound", "opt-out"]);
    expect(new Set(posts.map((post) => post.id)).size).toBe(posts.length);
    expect(posts.every((post) => post.signed)).toBe(true);
  });
});

describe("STOP and START for one number", () => {
  it("arriving together: state follows the log", async () => {
    const phones = Array.from({ length: 20 }, (_, index) => testNumber(3100 + index));

    await Promise.all(
      phones.flatMap((phone) => [
        deliver(twilioInbound(apis, { from: phone, text: "STOP" })),
        deliver(twilioInbound(apis, { from: phone, text: "START" })),
      ]),
    );

    const histories = await readHistories(dbPath, phones);
    const states = await optedOut(phones);

    for (const phone of phones) {
      const history = histories.get(phone) ?? [];

      expect(history.map((event) => event.action).sort(), phone).toEqual(["opt-in", "opt-out"]);
      expect(states.get(phone), phone).toBe(newestEvent(history)?.action === "opt-out");
    }

    const status = await runCli(
      ["optout", "status", phones[0] as string, "--json", "--config", configPath],
      {
        cwd: dir,
      },
    );

    expect(JSON.parse(status.stdout).optedOut).toBe(states.get(phones[0] as string));
  });

  it("late older STOP does not override START", async () => {
    const phone = testNumber(3200);
    const sentAt = Date.now() - 60_000;
    const stop = vonageInbound({ from: phone, text: "STOP", messageTimestamp: new Date(sentAt) });
    const start = vonageInbound({
      from: phone,
      text: "START",
      messageTimestamp: new Date(sentAt + 5_000),
    });

    expect((await deliver(start)).status).toBe(204);
    expect((await deliver(stop)).status).toBe(204);

    expect((await optedOut([phone])).get(phone)).toBe(false);
    expect((await readHistories(dbPath, [phone])).get(phone)).toHaveLength(2);
  });

  it("together with provider times: newest wins", async () => {
    const phones = Array.from({ length: 20 }, (_, index) => testNumber(3300 + index));
    const sentAt = Date.now() - 60_000;
    const expected = new Map<string, boolean>();

    // Odd numbers sent STOP last, even ones START. Each pair is posted at once with the
    // newer message first, so the older one tends to arrive last.
    const deliveries = phones.flatMap((phone, index) => {
      const stopLast = index % 2 === 1;
      const stop = vonageInbound({
        from: phone,
        text: "STOP",
        messageTimestamp: new Date(sentAt + (stopLast ? 5_000 : 0)),
      });
      const start = vonageInbound({
        from: phone,
        text: "START",
        messageTimestamp: new Date(sentAt + (stopLast ? 0 : 5_000)),
      });

      expected.set(phone, stopLast);

      return stopLast ? [deliver(stop), deliver(start)] : [deliver(start), deliver(stop)];
    });
    const answers = await Promise.all(deliveries);

    expect(answers.filter((answer) => answer.status !== 204)).toEqual([]);
    expect(await optedOut(phones)).toEqual(expected);
  });
});
