import type { IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { WebhookSecret } from '../protocol/signing.js';

/**
 * A message may be up to 5 minutes old or 5 minutes in the future and still verify, so an id must be
 * remembered for 10 minutes to refuse every replay; after that the timestamp check refuses it on its own.
 */
const REPLAY_WINDOW_MS = 10 * 60_000;

export type SignatureCheck = { ok: true; firstDelivery: boolean } | { ok: false; reason: string };

/**
 * Verifies V2 Standard Webhooks signatures on the raw body, with the reference implementation, and tells a
 * first delivery of a webhook-id from a repeat. One guard per route: confirm calls and notices are separate
 * message streams.
 */
export class SignatureGuard {
  readonly #webhook: Webhook;
  /** webhook-id → when it was first seen; Map keeps insertion order, so the oldest ids are at the front. */
  readonly #seen = new Map<string, number>();

  constructor(secret: WebhookSecret) {
    this.#webhook = new Webhook(secret.key, { format: 'raw' });
  }

  check(rawBody: string, headers: IncomingHttpHeaders): SignatureCheck {
    const id = headerText(headers, 'webhook-id');
    try {
      this.#webhook.verify(rawBody, {
        'webhook-id': id,
        'webhook-timestamp': headerText(headers, 'webhook-timestamp'),
        'webhook-signature': headerText(headers, 'webhook-signature'),
      }, { jsonParse: false });
    } catch (error) {
      return { ok: false, reason: `signature check failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    const now = Date.now();
    this.#forgetBefore(now - REPLAY_WINDOW_MS);
    if (this.#seen.has(id)) return { ok: true, firstDelivery: false };
    this.#seen.set(id, now);
    return { ok: true, firstDelivery: true };
  }

  #forgetBefore(cutoff: number): void {
    for (const [id, seenAt] of this.#seen) {
      if (seenAt >= cutoff) return;
      this.#seen.delete(id);
    }
  }
}

function headerText(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return typeof value === 'string' ? value : '';
}
