import { UsageError } from './errors.js';

/** Parses an http(s) URL the user gave, or says in one line what is wrong with it. */
export function parseHttpUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what}: "${maskUrl(text)}" is not a URL; give a full one such as http://127.0.0.1:3000/confirm`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${what}: "${maskUrl(text)}" must start with http:// or https://`);
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

/**
 * Names of query (and fragment) parameters whose values are credentials in practice: api_key, access_token,
 * client_secret, password, pwd, sig, signature, auth, session, credential, jwt, cookie.
 */
const SECRET_PARAMETER_NAME = /key|token|secret|pass|pwd|auth|sig|credential|session|cookie|jwt/i;
const MASK = '****';

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** `a=1&token=x` with every credential-like value replaced, the other parameters left byte for byte. */
function maskParameters(parameters: string): string {
  return parameters
    .split('&')
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at < 0) return pair;
      return SECRET_PARAMETER_NAME.test(decodedName(pair.slice(0, at))) ? `${pair.slice(0, at + 1)}${MASK}` : pair;
    })
    .join('&');
}

/**
 * Masks what text that is not a URL (a typo the user made, a URL inside an error message) would leak if
 * shown: the userinfo between "scheme://" and the last "@" of the authority, and credential-like parameters.
 */
function maskUrlText(text: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  let rest = text.slice(scheme.length);
  let head = scheme;
  // Such text has no reliable authority to end the userinfo at (a password may hold "/", "?", "#" or a
  // space), so everything up to the last "@" may be credentials.
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    head += colon >= 0 ? `${userinfo.slice(0, colon)}:${MASK}@` : `${MASK}@`;
    rest = rest.slice(at + 1);
  }
  return head + rest.replace(/([?#&])([^?#&=\s]+)=([^&#\s]*)/g, (all, separator: string, name: string) =>
    SECRET_PARAMETER_NAME.test(decodedName(name)) ? `${separator}${name}=${MASK}` : all,
  );
}

/**
 * A URL as it may be shown in output, reports, logs and errors: the userinfo masked (the password, or a
 * lone user name, which is how tokens ride in URLs such as https://TOKEN@host/), and the value of every
 * query or fragment parameter whose name looks like a credential. Everything else stays as given, so the
 * URL is still recognisable. Text that does not parse as a URL is masked by the same rules, textually.
 */
export function maskUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return maskUrlText(text);
  }
  // "user:pass@host" without http:// parses with "user:" as its scheme and everything else as an opaque path.
  if (url.host === '') return maskUrlText(text);
  const search = url.search === '' ? '' : `?${maskParameters(url.search.slice(1))}`;
  const hash = url.hash === '' ? '' : `#${maskParameters(url.hash.slice(1))}`;
  // Nothing to hide: the URL as the user wrote it, not as WHATWG would normalise it ("http://h" stays without "/").
  if (url.username === '' && url.password === '' && search === url.search && hash === url.hash) return text;
  if (url.password !== '') url.password = MASK;
  else if (url.username !== '') url.username = MASK;
  url.search = '';
  url.hash = '';
  return `${url.href.replace(/%2A%2A%2A%2A/g, MASK)}${search}${hash}`;
}

// A URL inside free text ends at whitespace, a quote, or a bracket a message put around it.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** Masks every URL inside a message (an error from a library, a merchant's text) by maskUrl's rules. */
export function maskUrlsInText(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => maskUrl(url));
}
