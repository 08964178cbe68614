import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConsentEvent } from "../src/consent/types.js";
import { openSqliteStore } from "../src/stores/sqlite.js";
import { type FakeTwilioApi, startFakeTwilioApi } from "../src/testing/fake-twilio.js";
import { makeTempDir, removeTempDir, runCli } from "./helpers/cli.js";
import { killRunningServers, launchServer, type ServerProcess } from "./helpers/server-process.js";
import {
  PUBLIC_URL,
  postWebhook,
  readHistories,
  type ServerFiles,
  type SignedWebhook,
  signedTwilioInbound,
  testNumber,
  writeTwilioServerConfig,
} from "./helpers/webhooks.js";

// A server is killed with SIGKILL while webhooks are in flight, then restarted on the same
// SQLite file. Every webhook acknowledged with a 2xx response must be in the store, none twice,
// and a provider that redelivers everything afterwards must end with exactly one event per
// message.

/** One webhook of the stream: a STOP or START from one number. */
interface Delivery {
  phone: string;
  action: "opt-out" | "opt-in";
  webhook: SignedWebhook;
  sent: boolean;
  /** The HTTP status, when a response arrived. */
  status?: number | undefined;
}

let api: FakeTwilioApi;
const dirs: string[] = [];

beforeAll(async () => {
  api = await startFakeTwilioApi();
});

afterEach(async () => {
  await killRunningServers();
});

afterAll(async () => {
  await api?.close();

  for (const dir of dirs) {
    await removeTempDir(dir);
  }
});

async function serverFiles(): Promise<ServerFiles & { dir: string }> {
  const dir = await makeTempDir("smsgate-crash-");
  dirs.push(dir);

  return { dir, ...(await writeTwilioServerConfig(dir, api)) };
}

function inboundUrl(server: ServerProcess): string {
  return `${server.url}/webhooks/twilio/inbound`;
}

/** Plans a STOP and then a START for each of `count` numbers. */
function planStopThenStart(count: number): Delivery[][] {
  const url = `${PUBLIC_URL}/webhooks/twilio/inbound`;
  const target = { url, authToken: api.authToken, accountSid: api.accountSid };

  return Array.from({ length: count }, (_, index) => {
    const phone = testNumber(1000 + index);

    return [
      {
        phone,
        action: "opt-out",
        sent: false,
        webhook: signedTwilioInbound(target, { from: phone, body: "STOP" }),
      },
      {
        phone,
        action: "opt-in",
        sent: false,
        webhook: signedTwilioInbound(target, { from: phone, body: "START" }),
      },
    ];
  });
}

/**
 * Posts each number's webhooks in order, `concurrency` numbers at a time, and kills the
 * server with SIGKILL as soon as `killAfter` responses were 2xx. A number's START is posted
 * only after its STOP was acknowledged, as a person would send them.
 */
async function streamUntilKilled(
  server: ServerProcess,
  plan: Delivery[][],
  killAfter: number,
  concurrency: number,
): Promise<void> {
  const queue = [...plan];
  let acknowledged = 0;
  let killed = false;

  const worker = async (): Promise<void> => {
    for (let sequence = queue.shift(); sequence && !killed; sequence = queue.shift()) {
      for (const delivery of sequence) {
        if (killed) {
          return;
        }

        delivery.sent = true;

        try {
          const answer = await postWebhook(inboundUrl(server), delivery.webhook);
          delivery.status = answer.status;
        } catch {
          // The server died with this request in flight.
          return;
        }

        if (delivery.status !== 200) {
          break;
        }

        acknowledged += 1;

        if (acknowledged === killAfter) {
          killed = true;
          process.kill(server.pid, "SIGKILL");
        }
      }
    }
  };

  await Promise.all(Array.from({ length: concurrency }, worker));
  expect(killed).toBe(true);
}

/** Posts every webhook at once and kills the server when `killAfter` were acknowledged. */
/**
 * Posts the first half of `deliveries` at once. When `killAfter` of them are acknowledged,
 * it posts the second half and kills the server 1 ms later. Verifying and committing 48
 * webhooks costs the server several milliseconds of CPU, so the kill lands while part of
 * the burst is in flight. A kill after the first acknowledgements alone could come too
 * late, because one group commit may answer the whole first half before the signal arrives.
 */
async function burstUntilKilled(
  server: ServerProcess,
  deliveries: Delivery[],
  killAfter: number,
): Promise<void> {
  const half = Math.ceil(deliveries.length / 2);
  const posts: Array<Promise<void>> = [];
  let acknowledged = 0;

  const post = async (delivery: Delivery): Promise<void> => {
    delivery.sent = true;

    try {
      delivery.status = (await postWebhook(inboundUrl(server), delivery.webhook)).status;
    } catch {
      return;
    }

    if (delivery.status === 200) {
      acknowledged += 1;

      if (acknowledged === killAfter) {
        posts.push(...deliveries.slice(half).map(post));
        setTimeout(() => process.kill(server.pid, "SIGKILL"), 1);
      }
    }
  };

  posts.push(...deliveries.slice(0, half).map(post));

  // The second wave joins `posts` while the first is awaited, so both are awaited in turn.
  for (let index = 0; index < posts.length; index += 1) {
    await posts[index];
  }
}

function eventOf(history: ConsentEvent[], delivery: Delivery): ConsentEvent[] {
  return history.filter((event) => event.messageId === delivery.webhook.messageSid);
}

function groupByPhone(deliveries: Delivery[]): Map<string, Delivery[]> {
  const byPhone = new Map<string, Delivery[]>();

  for (const delivery of deliveries) {
    byPhone.set(delivery.phone, [...(byPhone.get(delivery.phone) ?? []), delivery]);
  }

  return byPhone;
}

/** Checks the store after a crash: every acknowledged webhook once, nothing twice. */
async function expectAcknowledgedStored(dbPath: string, deliveries: Delivery[]): Promise<void> {
  const histories = await readHistories(dbPath, new Set(deliveries.map((d) => d.phone)));
  const acknowledged = deliveries.filter((delivery) => delivery.status === 200);

  for (const delivery of acknowledged) {
    const history = histories.get(delivery.phone) ?? [];
    const matching = eventOf(history, delivery);

    expect(matching, `${delivery.action} of ${delivery.phone}`).toHaveLength(1);
    expect(matching[0]?.action).toBe(delivery.action);
  }

  for (const [phone, history] of histories) {
    const messageIds = history.map((event) => event.messageId);

    expect(new Set(messageIds).size, `events of ${phone}`).toBe(messageIds.length);
  }
}

/**
 * Redelivers every webhook that was sent, each number's in order, as a provider does after
 * getting no response, and checks that each message is stored exactly once and that each
 * number ends in the state of its last message.
 */
async function expectRedeliveryCompletes(
  server: ServerProcess,
  dbPath: string,
  deliveries: Delivery[],
): Promise<void> {
  const sent = deliveries.filter((delivery) => delivery.sent);
  const byPhone = groupByPhone(sent);
  const statuses: number[] = [];

  const queue = [...byPhone.values()];
  const worker = async (): Promise<void> => {
    for (let sequence = queue.shift(); sequence; sequence = queue.shift()) {
      for (const delivery of sequence) {
        statuses.push((await postWebhook(inboundUrl(server), delivery.webhook)).status);
      }
    }
  };

  await Promise.all(Array.from({ length: 8 }, worker));
  expect(statuses.filter((status) => status !== 200)).toEqual([]);

  const histories = await readHistories(dbPath, byPhone.keys());

  for (const [phone, sequence] of byPhone) {
    const history = histories.get(phone) ?? [];

    expect(history, `events of ${phone}`).toHaveLength(sequence.length);

    for (const delivery of sequence) {
      expect(eventOf(history, delivery), `${delivery.action} of ${phone}`).toHaveLength(1);
    }
  }

  const store = openSqliteStore({ path: dbPath, readonly: true });

  try {
    for (const [phone, sequence] of byPhone) {
      const expected = sequence.at(-1)?.action === "opt-out";

      expect(await store.isOptedOut(phone), `state of ${phone}`).toBe(expected);
    }
  } finally {
    await store.close();
  }
}

describe("serve killed with SIGKILL", () => {
  for (const killAfter of [20, 100, 300]) {
    it(`kill after ${killAfter} acks loses none`, async () => {
      const files = await serverFiles();
      const first = await launchServer(files.configPath, { cwd: files.dir });
      const plan = planStopThenStart(Math.ceil(killAfter / 2) + 40);

      await streamUntilKilled(first, plan, killAfter, 8);
      expect((await first.exited).signal).toBe("SIGKILL");

      const deliveries = plan.flat();
      const acknowledged = deliveries.filter((delivery) => delivery.status === 200);

      expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);
      await expectAcknowledgedStored(files.dbPath, deliveries);

      const second = await launchServer(files.configPath, { cwd: files.dir });

      await expectRedeliveryCompletes(second, files.dbPath, deliveries);
      expect((await second.kill("SIGTERM")).code).toBe(0);
    });
  }

  it("kill during a burst loses no ack", async () => {
    const files = await serverFiles();
    const first = await launchServer(files.configPath, { cwd: files.dir });
    const deliveries = planStopThenStart(96).map(([stop]) => stop as Delivery);

    await burstUntilKilled(first, deliveries, 5);
    expect((await first.exited).signal).toBe("SIGKILL");

    const unanswered = deliveries.filter((delivery) => delivery.status === undefined);

    // The kill must land while part of the burst is still in flight.
    expect(unanswered.length).toBeGreaterThan(0);
    await expectAcknowledgedStored(files.dbPath, deliveries);

    const second = await launchServer(files.configPath, { cwd: files.dir });

    await expectRedeliveryCompletes(second, files.dbPath, deliveries);
    expect((await second.kill("SIGTERM")).code).toBe(0);
  });

  it("optout history shows acks after restart", async () => {
    const files = await serverFiles();
    const first = await launchServer(files.configPath, { cwd: files.dir });
    const plan = planStopThenStart(30);

    await streamUntilKilled(first, plan, 20, 4);
    await first.exited;

    const acknowledged = plan.flat().filter((delivery) => delivery.status === 200);
    const last = acknowledged.at(-1) as Delivery;
    const result = await runCli(
      ["optout", "history", last.phone, "--json", "--config", files.configPath],
      { cwd: files.dir },
    );
    const history = JSON.parse(result.stdout) as Array<Record<string, unknown>>;

    expect(result.code).toBe(0);
    expect(history.some((event) => event.messageId === last.webhook.messageSid)).toBe(true);
  });
});
