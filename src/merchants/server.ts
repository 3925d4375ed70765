import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfirmBody, type ParsedConfirm } from '../protocol/dialects.js';
import { MERCHANT_UID_MAX_LENGTH } from '../protocol/ids.js';
import type { WebhookSecret } from '../protocol/signing.js';
import { TypedEmitter } from '../util/events.js';
import { parseFlaw, type Flaw } from './flaws.js';
import { requireMilliseconds, requireWholeNumber } from '../util/numbers.js';
import { Shop, type PaymentStatus } from './shop.js';
import { SdkSignatureGuard, SignatureGuard, type SignatureChecker } from './signature.js';
import { PaymentVerifier, type MerchantGatewayOptions, type NoticeFacts, type PaymentRef } from './verify.js';
import { LookupError } from './lookup/v1.js';
import { REST_FLAWS } from './flaws.js';
import { UsageError } from '../util/errors.js';
import { parseHttpUrl } from '../util/url.js';
import { AdminGuard, adminHeaders, checkAdminToken } from './admin.js';
import { abortableByAll } from '../util/abort.js';
import { listen } from '../util/listen.js';
import { DEFAULT_FLOW, parseFlow, type Flow } from '../protocol/flows.js';
import { MANUAL_CONFIRM_FLAW_DESCRIPTIONS, MANUAL_ONLY_FLAWS } from './flaws.js';
import { ManualConfirmCompletions, MANUAL_CONFIRM_PATH, parseCompletion } from './manual-confirm.js';

export interface MerchantOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Units in stock at start and after a reset without a value; default 100. */
  stock?: number;
  /** The amount of an order taken by `openOrders`; default 1000. */
  amount?: number;
  /** Undefined = a correct merchant. */
  flaw?: Flaw;
  /** When set, every confirm call and webhook must carry a valid Standard Webhooks signature (V2 signs; V1 never does). */
  secret?: WebhookSecret;
  /** Take any unseen merchant_uid as a new order of 1 unit at `amount`, so bursts need no order set-up. */
  openOrders?: boolean;
  /** Stock reserved at confirm and not reported paid within this many ms comes back; default: no deadline. */
  holdMs?: number;
  /** The simulated database round trip of the `race` and `slow` flaws; default 3 ms. */
  dbLatencyMs?: number;
  /** How long the `slow` flaw keeps an overloaded confirm waiting; default 6 s, past the gateway's 5 s. */
  slowDelayMs?: number;
  /**
   * When set, the admin routes (POST /reset, POST and GET /orders) need `Authorization: Bearer <token>`
   * (`adminHeaders(token)`); confirm-sim's hooks send it with `hookHeaders` / `--hook-header`. The CLI
   * generates one whenever the merchant authenticates its confirms; from code, pass `generateAdminToken()`.
   */
  adminToken?: string;
  /** The most orders kept before new ones are refused (507; a confirm gets 503); default DEFAULT_MAX_ORDERS. */
  maxOrders?: number;
  /**
   * 'rest': look every confirm's payment up through the gateway's REST API (V1 token + GET /payments/{imp_uid};
   * V2 PortOne SDK getPayment) and compare it with the order before taking stock; notices are looked up again,
   * and a reservation whose hold ran out is settled by what the gateway says. Needs `gateway`.
   */
  verify?: 'rest';
  /** The gateway whose REST API `verify: 'rest'` asks, and where a manual-confirm merchant confirms. */
  gateway?: MerchantGatewayOptions;
  /**
   * 'manual-confirm': PortOne V2 manual confirm. The merchant serves POST /payment/complete, takes the buyer's
   * `{paymentId, paymentToken, txId}` and charges it with PortOne's SDK (`confirmPayment`) at `gateway`.
   * Default 'confirm-process' (POST /confirm, asked by the gateway).
   */
  flow?: Flow;
}

/** One answered confirm, for `--verbose` and for tests that watch the merchant. */
export interface MerchantConfirmEvent {
  merchantUid: string | null;
  /** The caller's dialect family, or null when the body was too broken to tell. */
  dialect: 'v1' | 'v2' | null;
  status: number;
  reason: string | null;
  stockLeft: number;
  elapsedMs: number;
}

export type MerchantEvents = { confirm: MerchantConfirmEvent };

export interface RunningMerchant {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  /** What confirm-sim's commands target: POST /confirm, or POST /payment/complete for manual confirm. */
  confirmUrl: string;
  flow: Flow;
  orderUrl: string;
  stockUrl: string;
  resetUrl: string;
  webhookUrl: string;
  flaw: Flaw | undefined;
  /** The token the admin routes need, or null when they are open. */
  adminToken: string | null;
  /** The headers a hook call needs: `{authorization: 'Bearer …'}`, or none when the admin routes are open. */
  adminHeaders: Record<string, string>;
  events: TypedEmitter<MerchantEvents>;
  /** How long a reservation waits for its payment before the merchant settles it; null: until a notice. */
  holdMs: number | null;
  /** 'rest' when it looks payments up through `gatewayUrl`, else null. */
  verify: 'rest' | null;
  gatewayUrl: string | null;
  /** Units in stock now. */
  stock(): number;
  /** Same as POST /reset: forget orders and reservations, set stock (default: the starting stock). */
  reset(stock?: number): void;
  /** Closes the server and every connection, idle keep-alive ones included; safe to call twice. */
  close(): Promise<void>;
}

const DEFAULT_STOCK = 100;
const DEFAULT_PRICE = 1000;
const DEFAULT_DB_LATENCY_MS = 3;
const DEFAULT_SLOW_DELAY_MS = 6_000;
/**
 * A REST-verifying merchant's first look at an unpaid reservation: the gateway charges right after the confirm,
 * so a payment not `paid` by then has most likely failed (V1 sends no notice for that); one still `ready` is
 * asked about again after the same time, never released while it may still be charged.
 */
export const DEFAULT_VERIFY_HOLD_MS = 5_000;
/** The `slow` flaw's pool size: confirms beyond this many in flight wait. */
const SLOW_AFTER_IN_FLIGHT = 4;
/** Real confirm bodies are a few hundred bytes; anything near this is an attack or a bug. */
export const MERCHANT_BODY_LIMIT = 64 * 1024;
/** Bursts open thousands of connections at once; the default backlog of 511 would refuse some. */
const LISTEN_BACKLOG = 4096;
/**
 * The most orders a merchant keeps (a few hundred bytes each, so about 100 MB at the limit): past it, new
 * orders are refused until a reset, rather than growing without bound. Ten times the largest documented burst.
 */
export const DEFAULT_MAX_ORDERS = 500_000;
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

const JSON_TYPE = /^application\/json\s*(?:;|$)/i;
const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;

type Dialect = 'v1' | 'v2';

interface ConfirmReply {
  status: number;
  dialect: Dialect | null;
  merchantUid: string | null;
  reason: string | null;
}

type JsonObject = Record<string, unknown>;
type JsonRead = { ok: true; value: JsonObject } | { ok: false; status: number; error: string };

interface FlawTiming {
  dbLatencyMs: number;
  slowDelayMs: number;
}

interface Route {
  method: 'GET' | 'POST';
  /** Admin routes change or list the merchant's books: with an admin token they need it. */
  admin: boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

class MerchantApp {
  readonly events = new TypedEmitter<MerchantEvents>();
  readonly routes: ReadonlyMap<string, Route[]>;
  readonly #shop: Shop;
  readonly #flaw: Flaw | undefined;
  readonly #slowDelayMs: number;
  readonly #dbLatencyMs: number;
  readonly #confirmGuard: SignatureChecker | undefined;
  readonly #webhookGuard: SignatureChecker | undefined;
  readonly #verifier: PaymentVerifier | undefined;
  readonly #adminGuard: AdminGuard | undefined;
  readonly #closing = abortableByAll();
  readonly #completions: ManualConfirmCompletions | undefined;
  #confirmsInFlight = 0;

  constructor(
    shop: Shop,
    flaw: Flaw | undefined,
    secret: WebhookSecret | undefined,
    adminToken: string | null,
    verifier: PaymentVerifier | undefined,
    timing: FlawTiming,
    completions: ManualConfirmCompletions | undefined,
  ) {
    this.#completions = completions;
    this.#shop = shop;
    this.#flaw = flaw;
    this.#slowDelayMs = timing.slowDelayMs;
    this.#dbLatencyMs = timing.dbLatencyMs;
    this.#verifier = verifier;
    // A REST-verifying merchant checks signatures with PortOne's SDK, as the V2 merchants it stands for do.
    const guard = (): SignatureChecker | undefined =>
      secret && (verifier ? new SdkSignatureGuard(secret) : new SignatureGuard(secret));
    this.#confirmGuard = guard();
    this.#webhookGuard = guard();
    this.#adminGuard = adminToken === null ? undefined : new AdminGuard(adminToken);
    const entry: [string, Route[]] = completions
      ? [MANUAL_CONFIRM_PATH, [{ method: 'POST', admin: false, handle: (req, res) => this.#complete(req, res, completions) }]]
      : ['/confirm', [{ method: 'POST', admin: false, handle: (req, res) => this.#confirm(req, res) }]];
    this.routes = new Map<string, Route[]>([
      entry,
      ['/orders', [
        { method: 'POST', admin: true, handle: (req, res) => this.#createOrder(req, res) },
        { method: 'GET', admin: true, handle: async (req, res) => this.#listOrders(req, res) },
      ]],
      ['/stock', [{ method: 'GET', admin: false, handle: async (_req, res) => sendJson(res, 200, { stock: this.#shop.stock }) }]],
      ['/reset', [{ method: 'POST', admin: true, handle: (req, res) => this.#reset(req, res) }]],
      ['/webhook', [{ method: 'POST', admin: false, handle: (req, res) => this.#webhook(req, res) }]],
    ]);
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (!URL.canParse(url, 'http://merchant.invalid')) {
      // `http://[/x` or `//[`: garbage a client can send as the request target, answered, never thrown.
      sendJson(res, 400, { error: 'the request target is not a URL path; send e.g. POST /confirm' }, { connection: 'close' });
      return;
    }
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const routes = this.routes.get(path);
    if (!routes) {
      sendJson(res, 404, { error: `no route ${path}; the merchant serves ${[...this.routes.keys()].join(', ')}` });
      return;
    }
    const route = routes.find((candidate) => candidate.method === req.method);
    if (!route) {
      const allowed = routes.map((candidate) => candidate.method).join(', ');
      sendJson(res, 405, { error: `${path} takes ${allowed}` }, { allow: allowed });
      return;
    }
    if (route.admin && this.#adminGuard && !this.#adminGuard.allows(req.headers)) {
      // Drain nothing: an unauthenticated caller gets no say in how much we read.
      sendJson(res, 401, { error: `${path} needs the admin token printed at start: Authorization: Bearer <token>` }, {
        'www-authenticate': 'Bearer realm="confirm-sim merchant admin"',
        connection: 'close',
      });
      return;
    }
    route.handle(req, res).catch((error: unknown) => {
      // A client that hangs up mid-request, or close() cutting a wait short, leaves nobody to answer.
      if (res.headersSent || res.destroyed || this.#closing.signal.aborted) return;
      sendJson(res, 500, { error: `the sample merchant failed: ${error instanceof Error ? error.message : String(error)}` });
    });
  };

  close(): void {
    this.#closing.abort();
  }

  async #confirm(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    this.#confirmsInFlight++;
    res.once('close', () => {
      this.#confirmsInFlight--;
    });
    const overloaded = this.#flaw === 'slow' && this.#confirmsInFlight > SLOW_AFTER_IN_FLIGHT;
    const reply = await this.#decideConfirm(req);
    if (this.#flaw === 'slow') {
      // Each confirm holds a database connection for a round trip; past the pool size the wait is far longer.
      // The stock is already taken either way: the bug is that the answer, not the work, comes too late.
      const wait = overloaded ? this.#slowDelayMs : this.#dbLatencyMs;
      await sleep(wait, undefined, { signal: this.#closing.signal });
    }
    const payload = reply.status === 200 ? {} : refusalBody(reply.dialect, reply.reason ?? 'refused');
    sendJson(res, reply.status, payload, reply.status === 413 ? { connection: 'close' } : undefined);
    this.events.emit('confirm', {
      merchantUid: reply.merchantUid,
      dialect: reply.dialect,
      status: reply.status,
      reason: reply.reason,
      stockLeft: this.#shop.stock,
      elapsedMs: performance.now() - started,
    });
  }

  /** Manual confirm: the buyer's front end posts what requestPayment returned; the merchant charges it. */
  async #complete(req: IncomingMessage, res: ServerResponse, completions: ManualConfirmCompletions): Promise<void> {
    const started = performance.now();
    const read = await readJsonObject(req, false);
    let answer: { status: number; body: Record<string, unknown>; paymentId: string | null; reason: string | null };
    if (!read.ok) answer = { status: read.status, body: { status: 'failed', reason: read.error }, paymentId: null, reason: read.error };
    else {
      const completion = parseCompletion(read.value);
      answer = typeof completion === 'string'
        ? { status: 400, body: { status: 'failed', reason: completion }, paymentId: null, reason: completion }
        : await completions.complete(completion);
    }
    sendJson(res, answer.status, answer.body, closeIfTooLarge(answer.status));
    this.events.emit('confirm', {
      merchantUid: answer.paymentId,
      dialect: 'v2',
      status: answer.status,
      reason: answer.reason,
      stockLeft: this.#shop.stock,
      elapsedMs: performance.now() - started,
    });
  }

  /** POST /reset and the library's reset: orders, stock and what was answered for them. */
  resetShop(stock?: number): void {
    this.#shop.reset(stock);
    this.#completions?.reset();
  }

  async #decideConfirm(req: IncomingMessage): Promise<ConfirmReply> {
    const raw = await readBody(req);
    if (raw === null) {
      return { status: 413, dialect: null, merchantUid: null, reason: `the body is over ${MERCHANT_BODY_LIMIT} bytes` };
    }
    if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
      return this.#malformed(null, null, 'Content-Type must be application/json');
    }
    const text = raw.toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return this.#malformed(null, null, 'the body is not valid JSON');
    }
    const parsed = parseConfirmBody(body);
    if (parsed === null) return this.#malformed(null, null, 'the body must be a JSON object');
    // With a secret, every confirm must be signed, whatever its body looks like: checking only V2-shaped bodies
    // would let anyone take stock with an unsigned V1-shaped one.
    if (this.#confirmGuard) {
      const check = await this.#confirmGuard.checkAsync(text, req.headers);
      if (!check.ok) return { status: 401, dialect: parsed.dialect, merchantUid: parsed.merchantUid, reason: check.reason };
      if (!check.firstDelivery) {
        return { status: 401, dialect: parsed.dialect, merchantUid: parsed.merchantUid, reason: 'replayed webhook-id: this confirm was already received' };
      }
    }
    const valid = validateConfirm(body as JsonObject, parsed);
    if (typeof valid === 'string') return this.#malformed(parsed.dialect, parsed.merchantUid, valid);
    const ref: PaymentRef = parsed.dialect === 'v1'
      ? { api: 'v1', impUid: parsed.impUid! }
      : { api: 'v2', paymentId: valid.merchantUid, transactionId: parsed.transactionId! };
    const expected = this.#shop.expectedAmount(valid.merchantUid);
    // Look the payment up before touching stock; an unknown order is refused by the shop without asking.
    if (this.#verifier && this.#flaw !== 'trusting' && expected !== null) {
      const check = await this.#verifier.checkConfirm({ ref, merchantUid: valid.merchantUid }, expected);
      if (!check.ok) return { status: check.status, dialect: parsed.dialect, merchantUid: valid.merchantUid, reason: check.reason };
    }
    const outcome = await this.#shop.confirm(valid.merchantUid, valid.amount, ref);
    return { ...outcome, dialect: parsed.dialect, merchantUid: valid.merchantUid };
  }

  /** Malformed input is refused with 400, except by the `lenient` merchant, which waves it through. */
  #malformed(dialect: Dialect | null, merchantUid: string | null, reason: string): ConfirmReply {
    if (this.#flaw === 'lenient') return { status: 200, dialect, merchantUid, reason: null };
    return { status: 400, dialect, merchantUid, reason };
  }

  async #createOrder(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const read = await readJsonObject(req, false);
    if (!read.ok) return sendJson(res, read.status, { error: read.error }, closeIfTooLarge(read.status));
    const { merchant_uid: merchantUid, amount, quantity = 1 } = read.value;
    if (typeof merchantUid !== 'string' || merchantUid.length === 0 || merchantUid.length > MERCHANT_UID_MAX_LENGTH) {
      return sendJson(res, 400, { error: `merchant_uid must be a string of 1 to ${MERCHANT_UID_MAX_LENGTH} characters` });
    }
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      return sendJson(res, 400, { error: 'amount must be a number, 0 or more' });
    }
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
      return sendJson(res, 400, { error: 'quantity must be a whole number, 1 or more (default 1)' });
    }
    const result = this.#shop.createOrder(merchantUid, amount, quantity);
    if (result === 'full') return sendJson(res, 507, { error: this.#shop.fullReason() });
    if (result === 'conflict') {
      return sendJson(res, 409, { error: `order ${merchantUid} already exists with another amount or quantity` });
    }
    // A repeat of the same order answers as its creation did, so set-up scripts can simply run again.
    sendJson(res, 201, { merchant_uid: merchantUid, amount, quantity });
  }

  /** GET /orders?offset=0&limit=100: one page of the orders, oldest first, and where the next page starts. */
  #listOrders(req: IncomingMessage, res: ServerResponse): void {
    const query = new URL(req.url ?? '/', 'http://merchant.invalid').searchParams;
    const offset = pageParameter(query.get('offset'), 0, Number.MAX_SAFE_INTEGER);
    const limit = pageParameter(query.get('limit'), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    if (offset === null || limit === null || limit === 0) {
      return sendJson(res, 400, { error: `offset must be a whole number 0 or more, limit one from 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})` });
    }
    sendJson(res, 200, this.#shop.listOrders(offset, limit));
  }

  async #reset(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const read = await readJsonObject(req, true);
    if (!read.ok) return sendJson(res, read.status, { error: read.error }, closeIfTooLarge(read.status));
    const { stock } = read.value;
    if (stock !== undefined && (typeof stock !== 'number' || !Number.isInteger(stock) || stock < 0)) {
      return sendJson(res, 400, { error: 'stock must be a whole number, 0 or more (leave it out for the starting stock)' });
    }
    this.resetShop(stock);
    sendJson(res, 200, { stock: this.#shop.stock });
  }

  /** The notice_url: V1 `{imp_uid, merchant_uid, status}` as JSON or a form, or a V2 `{type, data}` webhook. */
  async #webhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === null) {
      return sendJson(res, 413, { error: `the body is over ${MERCHANT_BODY_LIMIT} bytes` }, { connection: 'close' });
    }
    const text = raw.toString('utf8');
    const contentType = req.headers['content-type'] ?? '';
    let body: unknown;
    if (JSON_TYPE.test(contentType)) {
      try {
        body = JSON.parse(text);
      } catch {
        return sendJson(res, 400, { error: 'the body is not valid JSON' });
      }
    } else if (FORM_TYPE.test(contentType)) {
      body = Object.fromEntries(new URLSearchParams(text));
    } else {
      return sendJson(res, 400, { error: 'Content-Type must be application/json or application/x-www-form-urlencoded' });
    }
    if (!isJsonObject(body)) return sendJson(res, 400, { error: 'the body must be a JSON object' });

    // Whatever its shape: an unsigned V1-shaped notice must not release stock when notices are signed.
    if (this.#webhookGuard) {
      const check = await this.#webhookGuard.checkAsync(text, req.headers);
      if (!check.ok) return sendJson(res, 401, { error: check.reason });
      // Standard Webhooks retries reuse the id: acknowledge the repeat without applying it twice.
      if (!check.firstDelivery) return sendJson(res, 200, {});
    }
    if (this.#verifier) return this.#verifiedNotice(body, res, this.#verifier);

    if (typeof body.type === 'string' && isJsonObject(body.data)) {
      const paymentId = body.data.paymentId;
      if (typeof paymentId !== 'string' || paymentId.length === 0) {
        return sendJson(res, 400, { error: 'data.paymentId must be a non-empty string' });
      }
      const status = V2_WEBHOOK_STATUS.get(body.type);
      if (status) this.#shop.applyPaymentStatus(paymentId, status);
      return sendJson(res, 200, {});
    }

    const { merchant_uid: merchantUid, status } = body;
    if (typeof merchantUid !== 'string' || merchantUid.length === 0 || typeof status !== 'string') {
      return sendJson(res, 400, { error: 'a V1 webhook needs merchant_uid and status strings' });
    }
    if (isPaymentStatus(status)) this.#shop.applyPaymentStatus(merchantUid, status);
    sendJson(res, 200, {});
  }

  /**
   * A REST-verifying merchant reads only the payment's id from a notice and asks the gateway what happened:
   * a notice body can be forged as easily as a confirm.
   */
  async #verifiedNotice(body: JsonObject, res: ServerResponse, verifier: PaymentVerifier): Promise<void> {
    const ref = noticeRef(body);
    if (typeof ref === 'string') return sendJson(res, 400, { error: ref });
    let facts: NoticeFacts | null;
    try {
      facts = await verifier.noticeFacts(ref);
    } catch (error) {
      if (!(error instanceof LookupError)) throw error;
      // Not 2xx: the gateway delivers the notice again later, when the lookup may work.
      return sendJson(res, 503, { error: `could not look the payment up: ${error.message}` });
    }
    if (facts === null) return sendJson(res, 404, { error: 'the gateway has no such payment; nothing changed' });
    if (facts.fate !== 'pending') this.#shop.applyPaymentStatus(facts.merchantUid, facts.fate, facts.ref);
    sendJson(res, 200, {});
  }
}

/** The payment a notice names: V1 `imp_uid`, V2 `data.paymentId` (2024-04-25) or `payment_id` (2024-01-01). */
function noticeRef(body: JsonObject): PaymentRef | string {
  const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);
  if (typeof body.type === 'string' && isJsonObject(body.data)) {
    const paymentId = text(body.data.paymentId);
    if (paymentId === null) return 'data.paymentId must be a non-empty string';
    return { api: 'v2', paymentId, transactionId: text(body.data.transactionId) ?? '' };
  }
  const flatPaymentId = text(body.payment_id);
  if (flatPaymentId !== null) return { api: 'v2', paymentId: flatPaymentId, transactionId: text(body.tx_id) ?? '' };
  const impUid = text(body.imp_uid);
  if (impUid === null) return 'a V1 notice needs imp_uid: the merchant looks the payment up by it';
  return { api: 'v1', impUid };
}

// A Map, not an object literal: a webhook type such as "constructor" must not find anything.
const V2_WEBHOOK_STATUS = new Map<string, PaymentStatus>([
  ['Transaction.Paid', 'paid'],
  ['Transaction.Failed', 'failed'],
  ['Transaction.Cancelled', 'cancelled'],
]);

/** A paging query parameter: absent gives the default; anything but a whole number in range is null. */
function pageParameter(text: string | null, fallback: number, max: number): number | null {
  if (text === null) return fallback;
  if (!/^\d{1,16}$/.test(text)) return null;
  const value = Number(text);
  return value <= max ? value : null;
}

function isPaymentStatus(status: string): status is PaymentStatus {
  return status === 'paid' || status === 'failed' || status === 'cancelled';
}

function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Strict reading of a confirm body: every field the caller's dialect documents must be there with its type.
 * V1 is accepted in either document's shape (amount, status, or both), since the gateway sends either.
 */
function validateConfirm(body: JsonObject, parsed: ParsedConfirm): { merchantUid: string; amount: number | null } | string {
  let merchantUid: string;
  if (parsed.dialect === 'v2') {
    const enveloped = body.type === 'Transaction.Confirm';
    const field = (envelopedName: string, flatName: string): string => (enveloped ? `data.${envelopedName}` : flatName);
    if (parsed.merchantUid === null) return `${field('paymentId', 'payment_id')} must be a non-empty string`;
    if (parsed.transactionId === null) return `${field('transactionId', 'tx_id')} must be a non-empty string`;
    if (parsed.amount === null) return `${field('totalAmount', 'total_amount')} must be a number`;
    merchantUid = parsed.merchantUid;
  } else {
    if (parsed.merchantUid === null) return 'merchant_uid must be a non-empty string';
    if (parsed.impUid === null) return 'imp_uid must be a non-empty string';
    const hasAmount = 'amount' in body;
    const hasStatus = 'status' in body;
    if (!hasAmount && !hasStatus) return 'the body needs amount (current document) or status (older document)';
    if (hasAmount && parsed.amount === null) return 'amount must be a number';
    if (hasStatus && parsed.status === null) return 'status must be a non-empty string';
    // A confirm asks about a payment about to be charged; any other status is a replay or a forgery.
    if (hasStatus && parsed.status !== 'ready') {
      return `status must be "ready" (a confirm is for a payment about to be charged), not ${JSON.stringify(parsed.status)}`;
    }
    merchantUid = parsed.merchantUid;
  }
  if (merchantUid.length > MERCHANT_UID_MAX_LENGTH) {
    return `the order id is longer than the gateway's ${MERCHANT_UID_MAX_LENGTH} characters`;
  }
  return { merchantUid, amount: parsed.amount };
}

/** A refusal carries its reason where the caller's dialect reads it; both fields when the dialect is unknown. */
function refusalBody(dialect: Dialect | null, reason: string): Record<string, string> {
  if (dialect === 'v1') return { reason };
  if (dialect === 'v2') return { errorMessage: reason };
  return { reason, errorMessage: reason };
}

function sendJson(res: ServerResponse, status: number, payload: unknown, extraHeaders?: Record<string, string>): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...extraHeaders,
  });
  res.end(body);
}

/** After a 413 the rest of the oversized body is still on the socket; closing it is cheaper than reading it. */
function closeIfTooLarge(status: number): Record<string, string> | undefined {
  return status === 413 ? { connection: 'close' } : undefined;
}

/** The body, or null as soon as it passes MERCHANT_BODY_LIMIT, keeping at most that much in memory. */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  if (Number(req.headers['content-length'] ?? 0) > MERCHANT_BODY_LIMIT) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MERCHANT_BODY_LIMIT) chunks.push(chunk);
      else resolve(null);
    });
    req.on('end', () => resolve(size <= MERCHANT_BODY_LIMIT ? Buffer.concat(chunks, size) : null));
    req.on('error', reject);
    // Settles a client that hung up mid-body, without paying for an Error on every ordinary close.
    req.on('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before the body ended'));
    });
  });
}

async function readJsonObject(req: IncomingMessage, emptyIsObject: boolean): Promise<JsonRead> {
  const raw = await readBody(req);
  if (raw === null) return { ok: false, status: 413, error: `the body is over ${MERCHANT_BODY_LIMIT} bytes` };
  if (raw.length === 0 && emptyIsObject) return { ok: true, value: {} };
  if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
    return { ok: false, status: 400, error: 'Content-Type must be application/json' };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, status: 400, error: 'the body is not valid JSON' };
  }
  if (!isJsonObject(value)) return { ok: false, status: 400, error: 'the body must be a JSON object' };
  return { ok: true, value };
}

/**
 * Starts a sample merchant: a real HTTP server with stock, orders and a confirm endpoint, correct by
 * default or with one realistic flaw, for demos, tests and trying confirm-sim out.
 */
export async function startMerchant(options: MerchantOptions = {}): Promise<RunningMerchant> {
  const host = options.host ?? '127.0.0.1';
  const port = requireWholeNumber(options.port ?? 0, '`port`', 0, 65_535);
  const stock = requireWholeNumber(options.stock ?? DEFAULT_STOCK, '`stock`', 0);
  const price = requireWholeNumber(options.amount ?? DEFAULT_PRICE, '`amount`', 0);
  const flaw = options.flaw === undefined ? undefined : parseFlaw(options.flaw);
  const flow = parseFlow(String(options.flow ?? DEFAULT_FLOW));
  const manual = flow === 'manual-confirm';
  if (manual && flaw !== undefined && MANUAL_CONFIRM_FLAW_DESCRIPTIONS[flaw] === undefined) {
    throw new UsageError(`\`flaw\` ${flaw} is a Confirm Process bug; with \`flow\` manual-confirm use one of ${Object.keys(MANUAL_CONFIRM_FLAW_DESCRIPTIONS).join(', ')}`);
  }
  if (!manual && flaw !== undefined && MANUAL_ONLY_FLAWS.includes(flaw)) {
    throw new UsageError(`\`flaw\` ${flaw} is a manual-confirm bug; add \`flow\` manual-confirm \`gateway\` <url>`);
  }
  if (manual && options.gateway === undefined) {
    throw new UsageError('`flow` manual-confirm charges each buyer through the gateway: give its URL (`gateway` http://127.0.0.1:4000)');
  }
  if (manual && options.verify !== undefined) {
    throw new UsageError('`verify` rest is for the Confirm Process; a manual-confirm merchant learns each payment\'s fate from its own confirm call');
  }
  const verify = options.verify ?? null;
  if (verify !== null && verify !== 'rest') throw new UsageError(`\`verify\`: "${String(verify)}" is not a way to verify; use 'rest'`);
  if (verify !== null && options.gateway === undefined) {
    throw new UsageError('`verify` rest looks payments up at the gateway: give its URL (`gateway` http://127.0.0.1:4000)');
  }
  if (flaw !== undefined && REST_FLAWS.includes(flaw) && verify === null) {
    throw new UsageError(`\`flaw\` ${flaw} is a merchant that looks payments up, badly: give \`verify\` rest and \`gateway\` <url>`);
  }
  const gatewayUrl = options.gateway === undefined ? null : parseHttpUrl(options.gateway.url, '`gateway`').href.replace(/\/$/, '');
  const holdMs = options.holdMs === undefined
    ? (verify === null ? undefined : DEFAULT_VERIFY_HOLD_MS)
    : requireMilliseconds(options.holdMs, '`holdMs`');
  const dbLatencyMs = requireMilliseconds(options.dbLatencyMs ?? DEFAULT_DB_LATENCY_MS, '`dbLatencyMs`');
  const slowDelayMs = requireMilliseconds(options.slowDelayMs ?? DEFAULT_SLOW_DELAY_MS, '`slowDelayMs`');
  const maxOrders = requireWholeNumber(options.maxOrders ?? DEFAULT_MAX_ORDERS, '`maxOrders`', 1);
  const adminToken = options.adminToken === undefined ? null : checkAdminToken(options.adminToken);
  const verifier = verify === null || gatewayUrl === null ? undefined : new PaymentVerifier({ ...options.gateway, url: gatewayUrl });
  // In manual confirm the shop's own flaws stay out of the way, except forgetting to give stock back.
  const shopFlaw = manual ? (flaw === 'no-release' ? flaw : undefined) : flaw;
  const shop = new Shop({
    stock, price, flaw: shopFlaw, openOrders: options.openOrders ?? false, holdMs, dbLatencyMs, maxOrders,
    checkFate: verifier && ((ref) => verifier.fate(ref)),
  });
  const paymentClient = manual && gatewayUrl !== null ? new PaymentVerifier({ ...options.gateway, url: gatewayUrl }) : undefined;
  const completions = paymentClient && new ManualConfirmCompletions(shop, paymentClient.v2, flaw, options.gateway?.timeoutMs);
  const app = new MerchantApp(shop, flaw, options.secret, adminToken, verifier, { dbLatencyMs, slowDelayMs }, completions);
  const server = createServer(app.handle);
  const address = await listen(server, host, port, LISTEN_BACKLOG);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      app.close();
      shop.close();
      server.close(() => {
        const clients = [verifier, paymentClient].filter((client) => client !== undefined);
        Promise.allSettled(clients.map((client) => client.close())).then(() => resolve());
      });
      server.closeAllConnections();
    });
    return closing;
  };

  return {
    url,
    confirmUrl: manual ? `${url}${MANUAL_CONFIRM_PATH}` : `${url}/confirm`,
    flow,
    orderUrl: `${url}/orders`,
    stockUrl: `${url}/stock`,
    resetUrl: `${url}/reset`,
    webhookUrl: `${url}/webhook`,
    flaw,
    adminToken,
    adminHeaders: adminToken === null ? {} : adminHeaders(adminToken),
    holdMs: holdMs ?? null,
    verify,
    gatewayUrl,
    events: app.events,
    stock: () => shop.stock,
    reset: (value) => app.resetShop(value === undefined ? undefined : requireWholeNumber(value, 'stock', 0)),
    close,
  };
}
