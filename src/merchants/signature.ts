import type { IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';

import type { WebhookSecret } from '../protocol/signing.js';

/**
 * A message may be up to 5 minutes old or 5 minutes in the future and still verify, so an id must be
 * remembered for 10 minutes to refuse every replay; after that the timestamp check refuses it on its own.
 */
const REPLAY_WINDOW_MS = 10 * 60_000;

export type SignatureCheck = { ok: true; firstDelivery: boolean } | { ok: false; reason: string };

/** Either guard, as a route uses it. */
export interface SignatureChecker {
  checkAsync(rawBody: string, headers: IncomingHttpHeaders): Promise<SignatureCheck>;
}

/** The webhook-ids seen within the replay window, to tell a first delivery from a repeat. */
class ReplayMemory {
  /** webhook-id → when it was first seen; Map keeps insertion order, so the oldest ids are at the front. */
  readonly #seen = new Map<string, number>();

  firstDelivery(id: string): SignatureCheck {
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

/**
 * Verifies V2 Standard Webhooks signatures on the raw body, with the reference implementation, and tells a
 * first delivery of a webhook-id from a repeat. One guard per route: confirm calls and notices are separate
 * message streams.
 */
export class SignatureGuard implements SignatureChecker {
  readonly #webhook: Webhook;
  readonly #memory = new ReplayMemory();

  constructor(secret: WebhookSecret) {
    this.#webhook = new Webhook(secret.key, { format: 'raw' });
  }

  check(rawBody: string, headers: IncomingHttpHeaders): SignatureCheck {
    const id = headerText(headers, 'webhook-id');
    try {
      this.#webhook.verify(rawBody, signatureHeaders(headers), { jsonParse: false });
    } catch (error) {
      return { ok: false, reason: `signature check failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    return this.#memory.firstDelivery(id);
  }

  async checkAsync(rawBody: string, headers: IncomingHttpHeaders): Promise<SignatureCheck> {
    return this.check(rawBody, headers);
  }
}

/**
 * The same guard with PortOne's server SDK doing the verification (`Webhook.verify`), as a V2 merchant's own
 * handler does: the REST-verifying sample merchant runs the code its users run.
 */
export class SdkSignatureGuard implements SignatureChecker {
  readonly #key: Uint8Array;
  readonly #memory = new ReplayMemory();

  constructor(secret: WebhookSecret) {
    this.#key = new Uint8Array(secret.key);
  }

  async checkAsync(rawBody: string, headers: IncomingHttpHeaders): Promise<SignatureCheck> {
    // Loaded on first use: the webhook module is small, but no command that never verifies should pay for it.
    const PortOneWebhook = await import('@portone/server-sdk/webhook');
    try {
      await PortOneWebhook.verify(this.#key, rawBody, signatureHeaders(headers));
    } catch (error) {
      // The SDK's messages are Korean; its reason code says the same to everyone.
      const reason = error instanceof PortOneWebhook.WebhookVerificationError ? `${error.reason} (${error.message})` : String(error);
      return { ok: false, reason: `signature check failed: ${reason}` };
    }
    return this.#memory.firstDelivery(headerText(headers, 'webhook-id'));
  }
}

function signatureHeaders(headers: IncomingHttpHeaders): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': headerText(headers, 'webhook-id'),
    'webhook-timestamp': headerText(headers, 'webhook-timestamp'),
    'webhook-signature': headerText(headers, 'webhook-signature'),
  };
}

function headerText(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return typeof value === 'string' ? value : '';
}
