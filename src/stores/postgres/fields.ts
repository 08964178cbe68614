/**
 * The rules of the PostgreSQL store's scalar options, shared by `openPostgresStore` and the
 * configuration file of the CLI. This module loads no database driver, so that reading a
 * configuration does not load pg.
 */

import { z } from "zod";

/** The largest timer delay Node.js accepts, in milliseconds. */
const maxTimeoutMs = 2 ** 31 - 1;

// PostgreSQL keeps identifiers up to NAMEDATALEN - 1 = 63 bytes and reserves the `pg_` prefix
// for system schemas. Only ASCII letters, digits and `_` are allowed, so 63 characters are
// 63 bytes and the quoted name never needs escaping.
const schemaNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The schema that contains the store's tables. */
export const schemaNameField = z
  .string({ error: "must be a schema name string" })
  .regex(schemaNamePattern, {
    error: "must be 1 to 63 ASCII letters, digits or _, not starting with a digit",
  })
  .refine((value) => !value.toLowerCase().startsWith("pg_"), {
    error: "must not start with pg_, which PostgreSQL reserves for system schemas",
  });

/** The size of the pool the store creates. */
export const maxConnectionsField = z
  .number({ error: "must be a number of connections" })
  .int({ error: "must be a whole number" })
  .min(1, { error: "must be at least 1" })
  .max(10_000, { error: "must be at most 10000" });

/** A time limit in milliseconds. */
export const timeoutMsField = z
  .number({ error: "must be a number of milliseconds" })
  .int({ error: "must be a whole number of milliseconds" })
  .min(1, { error: "must be at least 1, because 0 would wait forever" })
  .max(maxTimeoutMs, { error: `must be at most ${maxTimeoutMs}` });

/** The `application_name` of the store's connections. */
export const applicationNameField = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(63, { error: "must be at most 63 characters, the limit of PostgreSQL" });
