/**
 * A webhook server of the webhook benchmark, in its own process on 127.0.0.1:
 *
 * - `bare`: `node:http` reading the body and responding with the empty TwiML, which is the
 *   limit of the HTTP stack;
 * - `handwritten`: what an application would write by hand. It parses the form, verifies
 *   `X-Twilio-Signature`, and for a STOP appends the opt-out to a log keyed by MessageSid and
 *   updates a state table keyed by phone. It writes SQLite with WAL and `synchronous = FULL`
 *   and uses group commit: every webhook of one event-loop turn goes into one transaction,
 *   and each is acknowledged only after that commit;
 * - `handwritten-rows`: the same hand-written handler writing the rows smsgate's SQLite
 *   store writes for an opt-out (receipt, event, and the deciding rows per sender and per
 *   phone) into a file with the store's schema, with its own SQL;
 * - `library`: smsgate as a library, as its README shows: a `node:http` server with the
 *   request listener of `createNodeHandler()`, on the SQLite store.
 */

import { createServer } from "node:http";
import Database from "better-sqlite3";
import { createNodeHandler, Gateway } from "smsgate";
import { openSqliteStore } from "smsgate/stores/sqlite";
import { twilio } from "smsgate/twilio";
import { serveRequests } from "../lib/processes.mjs";
import { account, emptyTwiml } from "../lib/twilio.mjs";
import { answerUnstored, readBody, readSignedStop, twimlHeaders } from "../lib/webhook.mjs";

function bareHandler() {
  return async (req, res) => {
    await readBody(req);
    res.writeHead(200, twimlHeaders).end(emptyTwiml);
  };
}

const handwrittenSchema = `
CREATE TABLE IF NOT EXISTS opt_out_log (
  message_sid TEXT PRIMARY KEY,
  phone TEXT NOT NULL,
  sender TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS opted_out (
  phone TEXT PRIMARY KEY,
  message_sid TEXT NOT NULL,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Prepares the writes of one opt-out in the hand-written schema: a log and a state. */
function ownSchemaWriter(db) {
  db.exec(handwrittenSchema);

  const insertLog = db.prepare(
    `INSERT INTO opt_out_log (message_sid, phone, sender, body, received_at)
    VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_sid) DO NOTHING`,
  );
  const upsertState = db.prepare(
    `INSERT INTO opted_out (phone, message_sid, received_at) VALUES (?, ?, ?)
    ON CONFLICT (phone) DO UPDATE SET message_sid = excluded.message_sid,
      received_at = excluded.received_at
    WHERE excluded.received_at >= opted_out.received_at`,
  );

  return {
    write({ sid, phone, sender, body, receivedAt }) {
      if (insertLog.run(sid, phone, sender, body, receivedAt).changes > 0) {
        upsertState.run(phone, sid, receivedAt);
      }
    },
    recorded: db.prepare("SELECT count(*) FROM opt_out_log").pluck(),
  };
}

/**
 * Prepares the writes of one opt-out in the schema of smsgate's SQLite store: the receipt,
 * the event, and the newest event per (phone, sender) and per phone (the row with sender '').
 */
function storeSchemaWriter(db) {
  const insertReceipt = db.prepare(
    `INSERT INTO webhook_receipts (id, provider, received_at, committed_at)
    VALUES (?, 'twilio', ?, ?) ON CONFLICT (id) DO NOTHING`,
  );
  const insertEvent = db
    .prepare(
      `INSERT INTO consent_events (id, phone, action, sender, source, provider, message_id,
        text, keyword, occurred_at, recorded_at, receipt_id)
      VALUES (?, ?, 'opt-out', ?, 'provider-flag', 'twilio', ?, ?, 'STOP', ?, ?, ?)
      RETURNING seq`,
    )
    .pluck();
  const upsertState = db.prepare(
    `INSERT INTO consent_state (phone, sender, action, occurred_at, seq)
    VALUES (?, ?, 'opt-out', ?, ?), (?, '', 'opt-out', ?, ?)
    ON CONFLICT (phone, sender) DO UPDATE SET action = excluded.action,
      occurred_at = excluded.occurred_at, seq = excluded.seq
    WHERE (excluded.occurred_at, excluded.seq)
      > (consent_state.occurred_at, consent_state.seq)`,
  );

  return {
    write({ sid, phone, sender, body, receivedAt }) {
      const receiptId = `twilio:inbound:${account.accountSid}:${sid}`;

      if (insertReceipt.run(receiptId, receivedAt, receivedAt).changes === 0) {
        return;
      }

      const eventId = `twilio:${account.accountSid}:${sid}:opt-out`;
      const seq = insertEvent.get(
        eventId,
        phone,
        sender,
        sid,
        body,
        receivedAt,
        receivedAt,
        receiptId,
      );

      upsertState.run(phone, sender, receivedAt, seq, phone, receivedAt, seq);
    },
    recorded: db.prepare("SELECT count(*) FROM webhook_receipts").pluck(),
  };
}

/** Writes the opt-outs of one event-loop turn in one transaction, then responds to each. */
function createGroupCommit(db, writer) {
  const writeBatch = db.transaction((batch) => {
    for (const write of batch) {
      writer.write(write);
    }
  });
  let queue = [];

  const flush = () => {
    const batch = queue;

    queue = [];
    try {
      writeBatch.immediate(batch);
    } catch {
      for (const { res } of batch) {
        res.writeHead(503).end();
      }
      return;
    }

    for (const { res } of batch) {
      res.writeHead(200, twimlHeaders).end(emptyTwiml);
    }
  };

  return (write) => {
    if (queue.length === 0) {
      setImmediate(flush);
    }
    queue.push(write);
  };
}

/** Opens the hand-written handler's database. `storeSchema` selects the rows it writes. */
async function openHandwrittenDatabase(storePath, storeSchema) {
  if (storeSchema) {
    // The store creates and migrates the file, and the handler writes it with its own SQL.
    await openSqliteStore({ path: storePath }).close();
  }

  const db = new Database(storePath);

  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  // The SQLite store checkpoints every 10,000 WAL pages, so the baselines do too.
  db.pragma("wal_autocheckpoint = 10000");

  return { db, writer: storeSchema ? storeSchemaWriter(db) : ownSchemaWriter(db) };
}

async function handwrittenHandler({ storePath, publicOrigin, storeSchema = false }) {
  const { db, writer } = await openHandwrittenDatabase(storePath, storeSchema);
  const enqueue = createGroupCommit(db, writer);
  const handler = async (req, res) => {
    const read = await readSignedStop(req, publicOrigin);

    if (read.optOut === undefined) {
      answerUnstored(res, read.status);
      return;
    }

    enqueue({ ...read.optOut, receivedAt: Date.now(), res });
  };

  handler.recorded = () => writer.recorded.get();
  return handler;
}

function libraryHandler({ storePath, publicOrigin }) {
  const store = openSqliteStore({ path: storePath });
  const gateway = new Gateway({ providers: [twilio(account)], store });
  const handler = createNodeHandler(gateway, { publicUrl: publicOrigin });
  const counter = new Database(storePath, { readonly: true });

  handler.recorded = () => counter.prepare("SELECT count(*) FROM webhook_receipts").pluck().get();
  return handler;
}

const handlers = {
  bare: bareHandler,
  handwritten: handwrittenHandler,
  "handwritten-rows": (options) => handwrittenHandler({ ...options, storeSchema: true }),
  library: libraryHandler,
};
let handler;

serveRequests({
  start: ({ variant, storePath }) =>
    new Promise((resolve) => {
      const server = createServer((req, res) => {
        handler(req, res).catch(() => res.destroy());
      });

      server.listen(0, "127.0.0.1", async () => {
        const { port } = server.address();

        handler = await handlers[variant]({ storePath, publicOrigin: `http://127.0.0.1:${port}` });
        resolve({ port });
      });
    }),
  recorded: () => handler.recorded?.() ?? null,
});
