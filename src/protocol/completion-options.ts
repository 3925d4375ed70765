import { UsageError } from '../util/errors.js';
import { CompletionTemplate, DEFAULT_COMPLETION_TEMPLATE } from './completion.js';
import { isV2, type Dialect } from './dialects.js';
import { successStatusesOf, type Flow, type SuccessStatuses } from './flows.js';

/** Manual confirm's options, as burst and check take them. */
export interface CompletionOptions {
  body?: string | undefined;
  successStatus?: string | SuccessStatuses | undefined;
  tokenLifetimeMs?: number | undefined;
}

export interface CompletionSettings {
  template: CompletionTemplate;
  success: SuccessStatuses;
  tokenLifetimeMs: number | null;
}

/**
 * Checks manual confirm's options, the same for burst and check: null for the Confirm Process, where each of
 * them is refused, since the gateway's confirm body and its 200 are fixed there. Manual confirm needs a
 * gateway (it mints the tokens and sees what the merchant confirmed) and a V2 dialect.
 */
export function resolveCompletion(options: CompletionOptions, flow: Flow, dialect: Dialect, hasGateway: boolean): CompletionSettings | null {
  if (flow !== 'manual-confirm') {
    for (const [value, option] of [[options.body, 'body'], [options.successStatus, 'successStatus'], [options.tokenLifetimeMs, 'tokenLifetimeMs']] as const) {
      if (value !== undefined) {
        throw new UsageError(`\`${option}\` is for \`flow\` manual-confirm: in the Confirm Process the gateway's confirm body and 200 are fixed`);
      }
    }
    return null;
  }
  if (!hasGateway) {
    throw new UsageError("`flow` manual-confirm needs `gateway` <url>: the gateway mints each buyer's paymentToken and knows which payments the merchant confirmed");
  }
  if (!isV2(dialect)) {
    throw new UsageError(`\`flow\` manual-confirm is V2's: give a V2 \`dialect\` (v2-2024-04-25 or v2-2024-01-01, the webhook version), not ${dialect}`);
  }
  const template = new CompletionTemplate(options.body ?? DEFAULT_COMPLETION_TEMPLATE);
  const success = successStatusesOf(options.successStatus);
  const tokenLifetimeMs = options.tokenLifetimeMs ?? null;
  if (tokenLifetimeMs !== null && !(Number.isFinite(tokenLifetimeMs) && tokenLifetimeMs >= 1)) {
    throw new UsageError(`\`tokenLifetimeMs\`: ${tokenLifetimeMs} ms is not a lifetime; give e.g. 10m`);
  }
  return { template, success, tokenLifetimeMs };
}
