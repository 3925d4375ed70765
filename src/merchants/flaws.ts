import { UsageError } from '../util/errors.js';

/**
 * The bugs a sample merchant can be started with. Each is a mistake real confirm endpoints make, and each is
 * caught by a different confirm-sim command, so the demo and the team's tests can show every verdict fail.
 */
export const FLAWS = ['race', 'double', 'lenient', 'slow', 'leak', 'trusting', 'no-release', 'confirm-first', 'double-confirm'] as const;
export type Flaw = (typeof FLAWS)[number];

export const FLAW_DESCRIPTIONS: Record<Flaw, string> = {
  race: 'reads stock, waits for the database, then writes read - 1: oversells under a burst',
  double: 'a repeated confirm for the same order takes stock again',
  lenient: 'answers 200 to unknown orders, wrong amounts and garbage',
  slow: 'with more than 4 confirms in flight, the extra ones answer after ~6 s (past the gateway timeout) yet keep the stock',
  leak: 'stock held by a payment that then fails never comes back',
  trusting: 'takes the confirm body on faith: never looks the payment up, so a forged imp_uid or a tampered amount takes stock',
  'no-release': 'keeps the stock of payments that fail after the confirm (ignores failed notices and the hold deadline)',
  'confirm-first': 'manual confirm: charges the buyer first, then checks the stock, and answers "sold out" to a charged buyer',
  'double-confirm': 'manual confirm: a repeated completion confirms again and, told ALREADY_PAID, cancels the payment the first one charged',
};

/**
 * What each flaw means in manual confirm (--flow manual-confirm), where the merchant's completion endpoint
 * calls the gateway's confirm itself; flaws missing here are Confirm Process bugs only.
 */
export const MANUAL_CONFIRM_FLAW_DESCRIPTIONS: Partial<Record<Flaw, string>> = {
  race: 'reads the stock, awaits the confirm call, then writes read - 1: oversells under a burst',
  'no-release': 'keeps the stock when the PG declines the confirm (PG_PROVIDER): undersells',
  'confirm-first': FLAW_DESCRIPTIONS['confirm-first'],
  'double-confirm': FLAW_DESCRIPTIONS['double-confirm'],
};

/** Flaws only a manual-confirm merchant has. */
export const MANUAL_ONLY_FLAWS: readonly Flaw[] = ['confirm-first', 'double-confirm'];

/** Flaws a Confirm Process merchant (the default flow) can have. */
export const CONFIRM_PROCESS_FLAWS: readonly Flaw[] = FLAWS.filter((flaw) => !MANUAL_ONLY_FLAWS.includes(flaw));

/** Flaws of a merchant that looks payments up: they need --verify rest and a gateway to mean anything. */
export const REST_FLAWS: readonly Flaw[] = ['trusting'];

export function parseFlaw(text: string, what = '`flaw`'): Flaw {
  if ((FLAWS as readonly string[]).includes(text)) return text as Flaw;
  // The manual-confirm seam's name for the read-then-write race.
  if (text === 'racy-confirm') return 'race';
  throw new UsageError(`${what}: unknown flaw "${text}"; use one of ${FLAWS.join(', ')} (or leave it out for a correct merchant)`);
}
