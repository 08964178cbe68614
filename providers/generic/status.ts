import type { DeliveryStatus } from "../../src/provider.js";

/**
 * Maps a provider's status value to a {@link DeliveryStatus} through the configured
 * table, whose keys are in lower case. A value missing from it is `unknown`.
 */
export function mapGenericStatus(
  statuses: Readonly<Record<string, DeliveryStatus>>,
  value: string | undefined,
): DeliveryStatus {
  const key = (value ?? "").trim().toLowerCase();

  return Object.hasOwn(statuses, key) ? (statuses[key] as DeliveryStatus) : "unknown";
}
