import type { ChalkInstance } from 'chalk';
import { formatMs } from '../util/duration.js';
import { FLAW_DESCRIPTIONS, MANUAL_CONFIRM_FLAW_DESCRIPTIONS, type Flaw } from '../merchants/flaws.js';
import type { MerchantConfirmEvent, RunningMerchant } from '../merchants/server.js';
import { quoteMerchantText } from '../contract/describe.js';

/** An order id longer than the gateway allows is cut here, with an ellipsis. */
const SHOWN_UID_CHARS = 60;
const SHOWN_REASON_CHARS = 200;

/** What `confirm-sim merchant` prints; with --json, each is one JSON line told apart by `type`. */
export interface MerchantStartedLine {
  schemaVersion: 1;
  type: 'started';
  url: string;
  confirmUrl: string;
  orderUrl: string;
  stockUrl: string;
  resetUrl: string;
  webhookUrl: string;
  stock: number;
  price: number;
  flaw: Flaw | null;
  openOrders: boolean;
  holdMs: number | null;
  /** The masked secret when V2 signatures are required, never the secret itself. */
  signatures: string | null;
  /** The token /reset and /orders need: in full when it was generated, masked when the user gave it; null when open. */
  adminToken: string | null;
  /** 'rest' when every confirm and notice is looked up at `gateway`. */
  verify: 'rest' | null;
  gateway: string | null;
  /** 'manual-confirm': confirmUrl is the completion endpoint, and each completion is confirmed at `gateway`. */
  flow?: 'confirm-process' | 'manual-confirm';
}

export interface MerchantConfirmLine extends MerchantConfirmEvent {
  schemaVersion: 1;
  type: 'confirm';
}

export interface MerchantStoppedLine {
  schemaVersion: 1;
  type: 'stopped';
  stock: number;
}

export interface MerchantSettings {
  price: number;
  openOrders: boolean;
  holdMs: number | null;
  maskedSecret: string | null;
  adminToken: string | null;
}

export function startedLine(merchant: RunningMerchant, settings: MerchantSettings): MerchantStartedLine {
  return {
    schemaVersion: 1,
    type: 'started',
    url: merchant.url,
    confirmUrl: merchant.confirmUrl,
    orderUrl: merchant.orderUrl,
    stockUrl: merchant.stockUrl,
    resetUrl: merchant.resetUrl,
    webhookUrl: merchant.webhookUrl,
    stock: merchant.stock(),
    price: settings.price,
    flaw: merchant.flaw ?? null,
    openOrders: settings.openOrders,
    holdMs: settings.holdMs,
    signatures: settings.maskedSecret,
    adminToken: settings.adminToken,
    verify: merchant.verify,
    gateway: merchant.gatewayUrl,
    flow: merchant.flow,
  };
}

export function formatStarted(line: MerchantStartedLine, colour: ChalkInstance): string {
  const manual = line.flow === 'manual-confirm';
  const flaw = line.flaw === null
    ? colour.green('none, a correct merchant')
    : colour.yellow(`${line.flaw}: ${(manual ? MANUAL_CONFIRM_FLAW_DESCRIPTIONS[line.flaw] : undefined) ?? FLAW_DESCRIPTIONS[line.flaw]}`);
  const orders = line.openOrders
    ? `any new merchant_uid is an order of 1 unit at ${line.price}`
    : `created with POST ${line.orderUrl} {merchant_uid, amount, quantity}`;
  const hold = line.holdMs === null
    ? 'none: a reservation lasts until a failed/cancelled webhook'
    : line.verify === null
      ? `${formatMs(line.holdMs)}: unpaid reservations come back after it`
      : `${formatMs(line.holdMs)}: then an unpaid reservation is looked up, given back if failed/cancelled, asked again if still ready`;
  const verify = manual
    ? `manual confirm: each completion {paymentId, paymentToken, txId} is charged at ${line.gateway} with @portone/server-sdk's confirmPayment`
    : line.verify === null || line.gateway === null
    ? 'off: the confirm body is taken as it comes'
    : `every confirm and notice is looked up at ${line.gateway} (V1 REST API; V2 through @portone/server-sdk)`;
  const signing = line.signatures === null ? 'off' : `every confirm call and webhook must be signed, whatever its shape (${line.signatures})`;
  const admin = line.adminToken === null
    ? 'open: /reset and /orders need no token'
    : `/reset and /orders need it; give confirm-sim --hook-header 'authorization: Bearer ${line.adminToken}'`;
  const rows: [string, string][] = [
    ['flaw', flaw],
    ['stock', units(line.stock)],
    ['orders', orders],
    ['hold', hold],
    ['signing', signing],
    ['verify', verify],
    ['admin', admin],
    ['', ''],
    [manual ? 'complete' : 'confirm', line.confirmUrl],
    ['orders', line.orderUrl],
    ['stock', line.stockUrl],
    ['reset', line.resetUrl],
    ['webhook', line.webhookUrl],
  ];
  const body = rows.map(([label, value]) => (label === '' ? '' : `  ${colour.dim(label.padEnd(8))} ${value}`)).join('\n');
  return `${colour.bold(`confirm-sim merchant listening on ${line.url}`)}\n${body}\nStop with Ctrl-C.\n`;
}

export function formatConfirm(event: MerchantConfirmEvent, colour: ChalkInstance): string {
  const status = event.status === 200 ? colour.green('200') : colour.red(String(event.status));
  // The order id comes straight from the request: escape it, or a caller could send terminal control sequences.
  const reason = event.reason === null ? '' : ` ${quoteMerchantText(event.reason, SHOWN_REASON_CHARS)}`;
  const order = event.merchantUid === null ? '(no order id)' : quoteMerchantText(event.merchantUid, SHOWN_UID_CHARS);
  return `confirm ${order} ${status}${reason}  stock ${event.stockLeft}, ${formatMs(event.elapsedMs)}\n`;
}

export function formatStopped(stock: number): string {
  return `merchant stopped with ${units(stock)} in stock\n`;
}

function units(count: number): string {
  return `${count} ${count === 1 ? 'unit' : 'units'}`;
}
