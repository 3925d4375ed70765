import { createHmac } from 'node:crypto';
import { UsageError } from '../util/errors.js';
import { pooledRandom } from '../util/random.js';
import { maskHeaderValue } from '../util/secrets.js';

/**
 * Standard Webhooks signing, as every PortOne V2 webhook (and so the V2 confirm call) is signed:
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, the key being the base64
 * part of a `whsec_...` secret. Signing is done here, by hand, because the contract cases must also make
 * deliberately wrong signatures (stale, tampered, other key) that a signing library will not produce; the
 * tests verify our output with the reference `standardwebhooks` implementation.
 */

export interface WebhookSecret {
  /** The HMAC key bytes. */
  readonly key: Buffer;
  /** What may be shown of the secret in output: its prefix and a mask, never the key. */
  readonly masked: string;
}

const SECRET_PREFIX = 'whsec_';

export function parseWebhookSecret(text: string, what = '`secret`'): WebhookSecret {
  const trimmed = text.trim();
  const encoded = trimmed.startsWith(SECRET_PREFIX) ? trimmed.slice(SECRET_PREFIX.length) : trimmed;
  const isBase64 = encoded.length > 0 && encoded.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(encoded);
  if (!isBase64) {
    throw new UsageError(
      `${what}: the secret is not valid base64 after "whsec_"; copy the whole webhook secret from the PortOne console (whsec_ followed by base64)`,
    );
  }
  const key = Buffer.from(encoded, 'base64');
  return { key, masked: maskSecret(trimmed) };
}

/**
 * Reads a secret from the environment variable `name`, the way CI systems hand secrets over; `what` names
 * the flag or scenario field in the error.
 */
export function webhookSecretFromEnv(env: NodeJS.ProcessEnv, name: string, what: string): WebhookSecret {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new UsageError(`${what}: the environment variable ${name} is not set; export it with the whsec_... webhook secret`);
  }
  return parseWebhookSecret(value, `${what} (${name})`);
}

/** `whsec_****` plus nothing of the key, so reports can say a secret was used without leaking it. */
export function maskSecret(secret: string): string {
  return secret.startsWith(SECRET_PREFIX) ? `${SECRET_PREFIX}****` : '****';
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function newWebhookId(): string {
  return `msg_${pooledRandom(12, 'hex')}`;
}

export function computeSignature(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export interface SignOptions {
  /** Message id; a fresh `msg_...` by default. Reuse one to simulate a replay. */
  id?: string | undefined;
  /** Unix seconds; now by default. Set it in the past to simulate a stale message. */
  timestampSeconds?: number | undefined;
}

export function signWebhook(secret: WebhookSecret, body: string, options: SignOptions = {}): SignedHeaders {
  const id = options.id ?? newWebhookId();
  const timestampSeconds = options.timestampSeconds ?? Math.floor(Date.now() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': computeSignature(secret.key, id, timestampSeconds, body),
  };
}

/** Masks a header value for display when it carries a credential, by the rule in util/secrets.ts. */
export const redactHeaderValue = maskHeaderValue;
