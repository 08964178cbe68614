/**
 * The range of `occurredAt` that stores and `optout import` accept. The newest event of a
 * number decides its state, so an event dated in the future would outvote every real event
 * until that time has passed, and one dated before SMS existed would lose to any other.
 * Stores therefore reject a time more than {@link maxClockSkewMs} ahead of their clock, and
 * record a later time within that limit as the time of recording (see
 * {@link clampOccurredAt}).
 */

/**
 * How far in the future an `occurredAt` may lie, in milliseconds, to allow for clocks that
 * run ahead of this machine's.
 */
export const maxClockSkewMs = 5 * 60 * 1000;

/**
 * Earliest accepted `occurredAt`. The first SMS was sent in 1992, so an earlier time is a
 * mistyped year.
 */
export const earliestOccurredAt = new Date("1990-01-01T00:00:00Z");

/** The reason an `occurredAt` lies outside the accepted range. */
export type OccurredAtProblem = "after-latest" | "before-earliest";

/** Returns the latest `occurredAt` accepted when the clock reads `now`. */
export function latestOccurredAt(now: Date): Date {
  return new Date(now.getTime() + maxClockSkewMs);
}

/**
 * Checks a valid Date against the accepted range when the clock reads `now`, and returns
 * the problem, or `undefined` when the time is accepted. Both bounds are inclusive.
 */
export function findOccurredAtProblem(time: Date, now: Date): OccurredAtProblem | undefined {
  if (time.getTime() > now.getTime() + maxClockSkewMs) {
    return "after-latest";
  }

  if (time.getTime() < earliestOccurredAt.getTime()) {
    return "before-earliest";
  }

  return undefined;
}

/**
 * Returns the `occurredAt` a store records for an event it records at `now`: the event's
 * own time, or `now` when that time is later. An event dated within the clock skew allowed
 * ahead then never outvotes an event recorded after it.
 */
export function clampOccurredAt(occurredAt: Date, now: Date): Date {
  return occurredAt.getTime() > now.getTime() ? new Date(now.getTime()) : occurredAt;
}
