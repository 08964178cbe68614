/**
 * The rules of the SQLite store's scalar options, shared by `openSqliteStore` and the
 * configuration file of the CLI. This module loads no database driver.
 */

import { z } from "zod";

/** The largest timer delay Node.js accepts, in milliseconds. */
const maxTimeoutMs = 2 ** 31 - 1;

/** How long a write waits for another connection's lock, in milliseconds; 0 does not wait. */
export const busyTimeoutMsField = z
  .number({ error: "must be a number of milliseconds" })
  .int({ error: "must be a whole number of milliseconds" })
  .min(0, { error: "must not be negative" })
  .max(maxTimeoutMs, { error: `must be at most ${maxTimeoutMs}` });
