import { UsageError } from './errors.js';

/** Parses an http(s) URL the user gave, or says in one line what is wrong with it. */
export function parseHttpUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what}: "${text}" is not a URL; give a full one such as http://127.0.0.1:3000/confirm`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${what}: "${text}" must start with http:// or https://`);
  }
  return url;
}

/**
 * Load tests may only target this machine: a flash-sale burst aimed at someone else's server is an attack,
 * not a test. Accepts the loopback range 127.0.0.0/8, ::1 and "localhost".
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return /^127(?:\.\d{1,3}){3}$/.test(host);
}

export function requireLoopback(url: URL, what: string): void {
  if (!isLoopbackHost(url.hostname)) {
    throw new UsageError(
      `${what}: load is only sent to this machine (127.0.0.0/8, ::1, localhost), not to ${url.hostname}; ` +
        'run confirm-sim next to the merchant (e.g. as a sidecar or CI job) and target it on loopback',
    );
  }
}

/** Query parameters whose values are credentials in practice (api_key, token, secret, password, signature...). */
const SECRET_QUERY_NAME = /(key|token|secret|pass(word)?|auth|sig(nature)?|credential)/i;

/**
 * A URL as it may be shown in output and reports: the password and credential-like query values replaced
 * by ****. Text that is not a URL is returned unchanged.
 */
export function maskUrlCredentials(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.password !== '') url.password = '****';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_QUERY_NAME.test(name)) url.searchParams.set(name, '****');
  }
  return url.href.replace(/%2A%2A%2A%2A/g, '****');
}
