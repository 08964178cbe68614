/**
 * A webhook server of the PostgreSQL webhook benchmark, in its own process on 127.0.0.1:
 *
 * - `handwritten`: what an application would write by hand. It parses the form, verifies
 *   `X-Twilio-Signature`, and for a STOP appends the opt-out to a log keyed by MessageSid and
 *   updates a state table keyed by phone. It commits as smsgate's PostgreSQL store commits a
 *   webhook: one READ COMMITTED transaction per webhook (BEGIN, two statements, COMMIT) on a
 *   client of a pg `Pool`, and responds only after its COMMIT returned;
 * - `library`: smsgate as a library, as its README shows: a `node:http` server with the
 *   request listener of `createNodeHandler()`, on a `PostgresOptOutStore`.
 *
 * The parent counts the stored rows with its own connection, so this process only serves.
 */

import { createServer } from "node:http";
import pg from "pg";
import { createNodeHandler, Gateway } from "smsgate";
import { openPostgresStore } from "smsgate/stores/postgres";
import { twilio } from "smsgate/twilio";
import { serveRequests } from "../lib/processes.mjs";
import { account, emptyTwiml } from "../lib/twilio.mjs";
import { answerUnstored, readSignedStop, twimlHeaders } from "../lib/webhook.mjs";

let failures = 0;

/** Logs a failed request to stderr: the first one, then the 10th, 100th and so on. */
function logFailure(what, error) {
  failures += 1;

  if (Number.isInteger(Math.log10(failures))) {
    const message = error instanceof Error ? error.message : String(error);

    process.stderr.write(
      `[webhook-postgres-server] ${what} failed (${failures} failures so far): ${message}\n`,
    );
  }
}

/** Returns the SQL that creates the hand-written tables in `quotedSchema`: log and state. */
function handwrittenSchema(quotedSchema) {
  return `
CREATE TABLE IF NOT EXISTS ${quotedSchema}.opt_out_log (
  message_sid text PRIMARY KEY,
  phone text NOT NULL,
  sender text NOT NULL,
  body text NOT NULL,
  received_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ${quotedSchema}.opted_out (
  phone text PRIMARY KEY,
  message_sid text NOT NULL,
  received_at timestamptz NOT NULL
);`;
}

function handwrittenStatements(quotedSchema) {
  return {
    insertLog: `INSERT INTO ${quotedSchema}.opt_out_log
        (message_sid, phone, sender, body, received_at)
      VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (message_sid) DO NOTHING`,
    upsertState: `INSERT INTO ${quotedSchema}.opted_out AS s (phone, message_sid, received_at)
      VALUES ($1, $2, $3)
      ON CONFLICT (phone) DO UPDATE
        SET message_sid = excluded.message_sid, received_at = excluded.received_at
        WHERE excluded.received_at >= s.received_at`,
  };
}

/**
 * Writes one opt-out in its own transaction on a client of `pool`. A failure is rolled back,
 * and a client whose ROLLBACK fails too, such as after a lost connection, is discarded.
 */
async function commitOptOut(pool, statements, { sid, phone, sender, body, receivedAt }) {
  const client = await pool.connect();
  let broken;

  try {
    await client.query("BEGIN");
    const logged = await client.query(statements.insertLog, [sid, phone, sender, body, receivedAt]);

    if (logged.rowCount > 0) {
      await client.query(statements.upsertState, [phone, sid, receivedAt]);
    }

    await client.query("COMMIT");
  } catch (error) {
    broken = await client.query("ROLLBACK").then(
      () => undefined,
      (rollbackError) => rollbackError,
    );
    throw error;
  } finally {
    client.release(broken);
  }
}

async function handwrittenHandler({ url, schema, maxConnections, publicOrigin }) {
  const quotedSchema = `"${schema}"`;
  // The connection settings of the pool that smsgate's store creates, with its default
  // time-outs: 5 s to connect, 10 s per statement, and 1 s more on the client side.
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 10_000,
    idle_in_transaction_session_timeout: 10_000,
    query_timeout: 11_000,
    application_name: "smsgate-bench-handwritten",
    keepAlive: true,
  });

  // An idle connection that fails is replaced on the next request, so the error is only
  // reported here instead of ending the process.
  pool.on("error", (error) => {
    logFailure("idle connection", error);
  });
  await pool.query(handwrittenSchema(quotedSchema));

  const statements = handwrittenStatements(quotedSchema);

  return async (req, res) => {
    const read = await readSignedStop(req, publicOrigin);

    if (read.optOut === undefined) {
      answerUnstored(res, read.status);
      return;
    }

    const optOutRow = { ...read.optOut, receivedAt: new Date() };

    try {
      await commitOptOut(pool, statements, optOutRow);
    } catch (error) {
      logFailure(`commit of MessageSid ${optOutRow.sid}`, error);
      res.writeHead(503).end();
      return;
    }

    res.writeHead(200, twimlHeaders).end(emptyTwiml);
  };
}

async function libraryHandler({ url, schema, maxConnections, publicOrigin }) {
  const store = await openPostgresStore({ url, schema, maxConnections });
  const gateway = new Gateway({ providers: [twilio(account)], store });

  return createNodeHandler(gateway, { publicUrl: publicOrigin });
}

const handlers = { handwritten: handwrittenHandler, library: libraryHandler };

serveRequests({
  start: ({ variant, url, schema, maxConnections }) =>
    new Promise((resolve, reject) => {
      let handler;
      const server = createServer((req, res) => {
        handler(req, res).catch((error) => {
          logFailure(`${req.method} ${req.url}`, error);
          res.destroy();
        });
      });

      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address();
        const publicOrigin = `http://127.0.0.1:${port}`;

        handlers[variant]({ url, schema, maxConnections, publicOrigin }).then((created) => {
          handler = created;
          resolve({ port });
        }, reject);
      });
    }),
});
