import { randomBytes } from 'node:crypto';
import { buildConfirmBody, isV2, parseWebhookSecret, signWebhook, type WebhookSecret } from '../../protocol/index.js';
import type { FireResult } from '../../fire/index.js';
import { outcome, type CaseContext, type ContractCase, type ConfirmOverrides } from '../context.js';
import { describeAnswer, exchangeDetails } from '../describe.js';
import type { TestOrder } from '../orders.js';

/** Receivers must refuse timestamps more than 5 minutes off; a minute more leaves room for clock skew. */
const STALE_BY_SECONDS = 6 * 60;

interface ForgedMessage {
  label: string;
  /** What to send for `order`; `other` is a second known order whose signature a tampered body reuses. */
  forge(order: TestOrder, other: TestOrder, secret: WebhookSecret, context: CaseContext): ConfirmOverrides;
}

function otherKey(): WebhookSecret {
  return parseWebhookSecret(`whsec_${randomBytes(24).toString('base64')}`);
}

const FORGED: ForgedMessage[] = [
  { label: 'unsigned', forge: () => ({ secret: undefined }) },
  {
    // A merchant that only checks signatures on V2-shaped bodies lets anyone confirm with a V1-shaped one.
    label: 'unsigned V1-shaped body (imp_uid, merchant_uid, amount)',
    forge: (order) => ({
      secret: undefined,
      body: JSON.stringify({ imp_uid: order.impUid, merchant_uid: order.merchantUid, amount: order.amount }),
    }),
  },
  { label: 'signed with another key', forge: () => ({ secret: otherKey() }) },
  {
    label: "tampered: another order's body under this order's signature",
    forge: (order, other, secret, context) => {
      const signedBody = buildConfirmBody(context.dialect, order);
      return { secret: undefined, body: buildConfirmBody(context.dialect, other), headers: { ...signWebhook(secret, signedBody) } };
    },
  },
  {
    label: `stale: timestamp ${STALE_BY_SECONDS / 60} minutes old`,
    forge: (order, _other, _secret, context) => {
      const sentAt = Math.floor(Date.now() / 1000) - STALE_BY_SECONDS;
      return {
        body: buildConfirmBody(context.dialect, { ...order, timestamp: new Date(sentAt * 1000) }),
        signOptions: { timestampSeconds: sentAt },
      };
    },
  },
];

/**
 * Registers the order's payment at the gateway (check --gateway) when it is not yet: a confirm with a body of
 * the case's own is otherwise for a payment nobody has, which a merchant that looks payments up refuses
 * whatever the signature, and the case would judge the lookup instead of the signature check.
 */
async function paymentAtGateway(context: CaseContext, order: TestOrder): Promise<void> {
  if (context.gateway !== null && !context.gateway.isRegistered(order)) await context.gateway.register(order);
}

export const rejectsBadSignatures: ContractCase = {
  id: 7,
  name: 'rejects-bad-signatures',
  title: 'confirms that are unsigned (V2 or V1-shaped), forged, tampered, stale or replayed are refused and move no stock',
  doc:
    'For V2 with the webhook secret: sends, each for a valid order in stock, a confirm without a signature, ' +
    'an unsigned one with a V1-shaped body (imp_uid, merchant_uid, amount), one signed with another key, one whose body is another order\'s under this order\'s signature, one with a ' +
    'correct signature but a timestamp 6 minutes old, and a replay of a correctly signed confirm that was ' +
    'just accepted (same webhook-id, timestamp and signature). The contract wants each refused (any status but ' +
    '200) and, with the stock probe, no stock moved: anyone can reach a confirm URL, only the gateway can sign.',
  unmet: (setup) => {
    if (!isV2(setup.dialect)) return 'V1 confirm calls are not signed; run with a V2 `dialect` to check signatures';
    if (setup.secret === undefined) return 'needs the webhook secret (`secret`) to sign good confirms and forge bad ones';
    return null;
  },
  async run(context) {
    const secret = context.setup.secret!;
    const before = await context.startingStock();
    const probes: Record<string, unknown>[] = [];
    const accepted: string[] = [];
    let stock = before;
    const stockMoves: string[] = [];
    const record = async (label: string, result: FireResult): Promise<void> => {
      const after = await context.stock();
      probes.push({ message: label, stockAfter: after, ...exchangeDetails(result) });
      if (result.decision.proceed) accepted.push(`${label} → HTTP 200`);
      else if (stock !== null && after !== null && after !== stock) stockMoves.push(`${label} → refused, but the stock went from ${stock} to ${after}`);
      stock = after;
    };

    for (const message of FORGED) {
      const order = await context.knownOrder();
      const other = await context.knownOrder();
      // With a gateway both payments exist and are ready: only the signature is left to refuse them for.
      await paymentAtGateway(context, order);
      await paymentAtGateway(context, other);
      await record(message.label, await context.confirm(order, message.forge(order, other, secret, context)));
    }

    const order = await context.knownOrder();
    const signOptions = { id: `msg_replay_${randomBytes(8).toString('hex')}`, timestampSeconds: Math.floor(Date.now() / 1000) };
    const body = buildConfirmBody(context.dialect, { ...order, timestamp: new Date(signOptions.timestampSeconds * 1000) });
    await paymentAtGateway(context, order);
    const original = await context.confirm(order, { body, signOptions });
    stock = await context.stock();
    probes.push({ message: 'original of the replay', stockAfter: stock, ...exchangeDetails(original) });
    const unjudged: string[] = [];
    if (original.decision.proceed) {
      await record('replayed (same webhook-id, timestamp and signature)', await context.confirm(order, { body, signOptions }));
      // Only now does the gateway learn the answer: the replay came while the payment was still in progress.
      await context.handOver(order, original);
    } else {
      unjudged.push(`a correctly signed confirm got ${describeAnswer(original)}, so its replay could not be judged (wanted HTTP 200 for it)`);
    }

    const problems = [...accepted, ...stockMoves, ...unjudged];
    const details = { stockBefore: before, probes };
    if (problems.length > 0) {
      return outcome(
        'failed',
        `${problems.join('; ')}; the contract wants every message that is not freshly signed by the gateway refused, with no stock moved`,
        details,
      );
    }
    const stockNote = before === null ? ' (stock not checked: no --stock-url)' : ', and the stock did not move';
    return outcome('passed', `refused unsigned (V2 and V1-shaped), forged, tampered, stale and replayed confirms${stockNote}`, details);
  },
};
