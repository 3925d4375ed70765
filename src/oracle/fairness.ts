/** What a buyer's arrival came to, for fairness: only answered buyers take part. */
export const ArrivalState = {
  /** Timed out, failed to connect, not sent: the merchant never chose between this buyer and another. */
  Unjudged: 0,
  Accepted: 1,
  Refused: 2,
} as const;

/**
 * First come, first served: once a buyer has been turned away, no buyer who arrives after that may get the
 * item. Counts the (refused, accepted) pairs where the accepted buyer arrived after the refusal had already
 * been given, plus `windowMs`.
 *
 * Requests that are with the merchant at the same time reach its code in an order no one promises (socket
 * read order, especially when it is saturated), so pairs that overlapped are not counted: every pair counted
 * is one the merchant decided in the wrong order, never an artefact of load. O(n log n).
 *
 * @param states one ArrivalState per buyer
 * @param times per buyer: when an accepted buyer's request was sent; when a refused buyer's refusal was read
 */
export function countInversions(states: Uint8Array, times: ArrayLike<number>, windowMs: number): number {
  const { accepted, refusals } = split(states, times);
  let inversions = 0;
  let refusedBefore = 0;
  for (const arrival of accepted) {
    while (refusedBefore < refusals.length && refusals[refusedBefore]! < arrival - windowMs) refusedBefore++;
    inversions += refusedBefore;
  }
  return inversions;
}

/**
 * Accepted buyers who arrived after some refusal had already been given (plus `windowMs`): the buyers an
 * inversion names. With declines, each unit a declined payment gave back can rightly let one of them in.
 */
export function countAcceptedAfterRefusal(states: Uint8Array, times: ArrayLike<number>, windowMs: number): number {
  let firstRefusal = Number.POSITIVE_INFINITY;
  for (let i = 0; i < states.length; i++) {
    if (states[i] === ArrivalState.Refused && times[i]! < firstRefusal) firstRefusal = times[i]!;
  }
  let late = 0;
  for (let i = 0; i < states.length; i++) {
    if (states[i] === ArrivalState.Accepted && times[i]! - windowMs > firstRefusal) late++;
  }
  return late;
}

function split(states: Uint8Array, times: ArrayLike<number>): { accepted: Float64Array; refusals: Float64Array } {
  let acceptedCount = 0;
  let refusedCount = 0;
  for (const state of states) {
    if (state === ArrivalState.Accepted) acceptedCount++;
    else if (state === ArrivalState.Refused) refusedCount++;
  }
  const accepted = new Float64Array(acceptedCount);
  const refusals = new Float64Array(refusedCount);
  for (let i = 0, a = 0, r = 0; i < states.length; i++) {
    if (states[i] === ArrivalState.Accepted) accepted[a++] = times[i]!;
    else if (states[i] === ArrivalState.Refused) refusals[r++] = times[i]!;
  }
  return { accepted: accepted.sort(), refusals: refusals.sort() };
}

/** Buyer indices for the report: the first accepted after a refusal, and the first refused. */
export function inversionExamples(
  states: Uint8Array,
  times: ArrayLike<number>,
  windowMs: number,
  limit: number,
): { acceptedLate: number[]; refusedEarly: number[] } {
  const earliest = (state: number, after: number): number[] => {
    const found: number[] = [];
    for (let i = 0; i < states.length; i++) {
      if (states[i] === state && times[i]! > after) found.push(i);
    }
    return found.sort((a, b) => times[a]! - times[b]!).slice(0, limit);
  };
  const refusedEarly = earliest(ArrivalState.Refused, Number.NEGATIVE_INFINITY);
  if (refusedEarly.length === 0) return { acceptedLate: [], refusedEarly: [] };
  const acceptedLate = earliest(ArrivalState.Accepted, times[refusedEarly[0]!]! + windowMs);
  if (acceptedLate.length === 0) return { acceptedLate: [], refusedEarly: [] };
  const cutoff = times[acceptedLate[0]!]! - windowMs;
  return { acceptedLate, refusedEarly: refusedEarly.filter((i) => times[i]! < cutoff) };
}
