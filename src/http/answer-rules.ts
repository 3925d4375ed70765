/**
 * The rules every command applies to a merchant's HTTP answer, on top of llhttp's strict parsing (see
 * llhttp.ts): fire, check's cases, burst's engine and the set-up hooks classify the same bytes the same way.
 */

/**
 * The most body confirm-sim reads from one answer (a confirm answer, a hook's, a stock probe's). A confirm
 * answer is a small JSON object; an answer past this is classified `body-too-large` and its connection closed,
 * so a merchant streaming forever costs us neither memory nor the run.
 */
export const MAX_ANSWER_BODY_BYTES = 1024 * 1024;

/**
 * RFC 9110 §15: a status code is three digits from 100 to 599. llhttp accepts any three digits (`099`, `999`);
 * we do not, so `600` is invalid HTTP in every command rather than a refusal in one and an error in another.
 */
export function isValidStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 100 && status <= 599;
}

/** A 1xx answer that another, final one follows (100 Continue, 103 Early Hints). */
export function isInterimStatus(status: number): boolean {
  return status >= 100 && status < 200 && status !== 101;
}

/**
 * 101 Switching Protocols, though confirm-sim never asks for an upgrade: it is not an answer to a confirm. undici
 * rejects it ("bad upgrade"); the engine does the same, so both call it invalid HTTP.
 */
export function isUnaskedUpgrade(status: number): boolean {
  return status === 101;
}
