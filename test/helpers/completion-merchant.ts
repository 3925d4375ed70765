import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PaymentClient } from '@portone/server-sdk';
import type { TestContext } from 'node:test';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../src/gateway/index.js';

/**
 * A small manual-confirm merchant written for the tests from PortOne's guide, independently of the sample
 * merchant: `POST /payment/complete` takes what the buyer's requestPayment returned, checks and holds stock,
 * and confirms through @portone/server-sdk with its own order's amount. Each flaw is one bug the guide's
 * readers really write. Test hooks: GET /stock, POST /reset {stock}, POST /orders {merchant_uid, amount}.
 */

export const COMPLETION_FLAWS = ['none', 'confirm-first', 'racy', 'no-release', 'double-confirm', 'told-paid'] as const;
export type CompletionFlaw = (typeof COMPLETION_FLAWS)[number];

export interface CompletionMerchant {
  url: string;
  stockUrl: string;
  resetUrl: string;
  orderUrl: string;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function typeOf(error: unknown): string {
  const data = (error as { data?: { type?: string } }).data;
  return data?.type ?? 'UNKNOWN';
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export async function startCompletionMerchant(options: {
  gateway: string;
  apiSecret: string;
  stock: number;
  flaw?: CompletionFlaw;
  price?: number;
}): Promise<CompletionMerchant> {
  const flaw = options.flaw ?? 'none';
  const price = options.price ?? 1000;
  const client = PaymentClient({ secret: options.apiSecret, baseUrl: options.gateway });
  let stock = options.stock;
  let amounts = new Map<string, number>();
  let paid = new Set<string>();
  let inFlight = new Map<string, Promise<Answer>>();

  async function confirm(paymentId: string, paymentToken: string, txId: string | undefined): Promise<'paid' | string> {
    try {
      await client.confirmPayment({ paymentId, paymentToken, ...(txId ? { txId } : {}), totalAmount: amounts.get(paymentId) ?? price, currency: 'KRW' });
      return 'paid';
    } catch (error) {
      return typeOf(error);
    }
  }

  async function complete(paymentId: string, paymentToken: string, txId: string | undefined): Promise<Answer> {
    if (paid.has(paymentId)) {
      if (flaw === 'double-confirm') {
        // "Pay again" from a second tab: cancels what it thinks is a stale payment, then tells the buyer paid.
        await client.cancelPayment({ paymentId, reason: 'replaced by a new completion' }).catch(() => undefined);
        return { status: 200, body: { status: 'paid' } };
      }
      return { status: 200, body: { status: 'paid' } };
    }
    if (flaw === 'confirm-first') {
      const result = await confirm(paymentId, paymentToken, txId);
      if (result !== 'paid') return { status: 402, body: { status: 'failed', reason: result } };
      if (stock <= 0) return { status: 409, body: { status: 'sold-out' } };
      stock--;
      paid.add(paymentId);
      return { status: 200, body: { status: 'paid' } };
    }
    if (flaw === 'racy') {
      const seen = stock;
      if (seen <= 0) return { status: 409, body: { status: 'sold-out' } };
      const result = await confirm(paymentId, paymentToken, txId);
      if (result !== 'paid') return { status: 402, body: { status: 'failed', reason: result } };
      stock = seen - 1;
      paid.add(paymentId);
      return { status: 200, body: { status: 'paid' } };
    }
    if (stock <= 0) return { status: 409, body: { status: 'sold-out' } };
    stock--;
    const result = await confirm(paymentId, paymentToken, txId);
    if (result === 'paid' || result === 'ALREADY_PAID') {
      paid.add(paymentId);
      return { status: 200, body: { status: 'paid' } };
    }
    if (flaw !== 'no-release' || result !== 'PG_PROVIDER') stock++;
    if (flaw === 'told-paid') return { status: 200, body: { status: 'paid' } };
    return { status: result === 'PG_PROVIDER' ? 402 : 400, body: { status: 'failed', reason: result } };
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const send = (status: number, body: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      if (request.method === 'GET' && path === '/stock') return send(200, { stock });
      const body = await readJson(request);
      if (request.method === 'POST' && path === '/reset') {
        stock = Number(body?.stock ?? options.stock);
        amounts = new Map();
        paid = new Set();
        inFlight = new Map();
        return send(200, { stock });
      }
      if (request.method === 'POST' && path === '/orders') {
        amounts.set(String(body?.merchant_uid), Number(body?.amount));
        return send(200, { ok: true });
      }
      if (request.method !== 'POST' || path !== '/payment/complete') return send(404, { reason: 'no such route' });
      const { paymentId, paymentToken, txId } = body ?? {};
      if (typeof paymentId !== 'string' || typeof paymentToken !== 'string') return send(400, { reason: 'paymentId and paymentToken are required' });
      // A buyer's second click while the first is still confirming gets the first's answer; the double-confirm
      // flaw waits for it instead and then handles the click as a new completion.
      let answer = inFlight.get(paymentId);
      if (answer !== undefined && flaw === 'double-confirm') {
        await answer;
        answer = complete(paymentId, paymentToken, typeof txId === 'string' ? txId : undefined);
      } else if (answer === undefined) {
        answer = complete(paymentId, paymentToken, typeof txId === 'string' ? txId : undefined);
        inFlight.set(paymentId, answer);
      }
      const { status, body: answerBody } = await answer;
      send(status, answerBody);
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500).end(String(error));
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/payment/complete`,
    stockUrl: `${base}/stock`,
    resetUrl: `${base}/reset`,
    orderUrl: `${base}/orders`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A simulated gateway and this merchant confirming through it, both closed when the test ends. */
export async function startCompletionSale(
  t: TestContext,
  options: { flaw: CompletionFlaw; stock: number; apiSecret: string; gateway?: Omit<GatewayOptions, 'apiSecret'> },
): Promise<{ gateway: RunningGateway; merchant: CompletionMerchant }> {
  const gateway = await startGateway({ port: 0, ...options.gateway, apiSecret: options.apiSecret });
  const merchant = await startCompletionMerchant({ gateway: gateway.url, apiSecret: options.apiSecret, stock: options.stock, flaw: options.flaw });
  t.after(async () => {
    await merchant.close();
    await gateway.close();
  });
  return { gateway, merchant };
}
