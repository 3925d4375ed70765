import { buildConfirmBody, MERCHANT_UID_MAX_LENGTH, refusalDetail, saysUnknownOrder, UNKNOWN_ORDER_FIX, type Dialect } from '../../protocol/index.js';
import type { FireResult } from '../../fire/index.js';
import { outcome, type CaseContext, type ContractCase } from '../context.js';
import { describeAnswer, exchangeDetails } from '../describe.js';
import type { TestOrder } from '../orders.js';

type JsonObject = Record<string, unknown>;
/** A field's place in the body: ['amount'] or ['data', 'totalAmount']. */
type FieldPath = readonly string[];

/**
 * `refuse`: the input is garbage and must not get 200. `answer`: the input may be fine for some merchants (an
 * open-orders shop takes any id, extra fields may be ignored) but must not knock the endpoint over.
 */
type Expectation = 'refuse' | 'answer';

interface BadInput {
  label: string;
  expect: Expectation;
  /** The bytes to send, made from a valid body for a fresh known order. */
  body(valid: ValidBody): string;
  contentType?: string;
}

interface ValidBody {
  text: string;
  parsed: JsonObject;
  order: TestOrder;
}

interface DialectFields {
  orderId: FieldPath;
  amount: FieldPath | null;
  /** Field groups whose absence leaves a body no document describes; each group is one probe. */
  required: FieldPath[][];
}

const DIALECT_FIELDS: Record<Dialect, DialectFields> = {
  // The union body minus amount is the older document's shape, minus status the current one's: both valid.
  v1: { orderId: ['merchant_uid'], amount: ['amount'], required: [[['imp_uid']], [['merchant_uid']], [['amount'], ['status']]] },
  'v1-status': { orderId: ['merchant_uid'], amount: null, required: [[['imp_uid']], [['merchant_uid']], [['status']]] },
  'v1-amount': { orderId: ['merchant_uid'], amount: ['amount'], required: [[['imp_uid']], [['merchant_uid']], [['amount']]] },
  'v2-2024-01-01': { orderId: ['payment_id'], amount: ['total_amount'], required: [[['payment_id']], [['tx_id']], [['total_amount']]] },
  'v2-2024-04-25': {
    orderId: ['data', 'paymentId'],
    amount: ['data', 'totalAmount'],
    required: [[['type']], [['data']], [['data', 'paymentId']], [['data', 'transactionId']], [['data', 'totalAmount']]],
  },
};

/** Ids that break string handling, queries, paths or terminals, all within the gateway's 40 characters. */
const HOSTILE_IDS = [
  "' OR '1'='1",
  '1; DROP TABLE orders; --',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/a}',
  '주문-🛒-ünïcödé',
  'order\u0000nul\u202eevil',
];

/** Just over a mebibyte, so the common framework default limit of 1 MiB refuses it too. */
const HUGE_BODY_BYTES = 1024 * 1024 + 1024;

/** JSON-quotes an id for a label, also escaping bidi overrides that would reorder the rest of a terminal line. */
function quotedId(id: string): string {
  return JSON.stringify(id).replace(/[\u0080-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function parentOf(body: JsonObject, path: FieldPath): JsonObject | null {
  let node: unknown = body;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return null;
    node = (node as JsonObject)[key];
  }
  return node !== null && typeof node === 'object' ? (node as JsonObject) : null;
}

function edited(base: JsonObject, edits: [FieldPath, unknown][]): string {
  const body = structuredClone(base);
  for (const [path, value] of edits) {
    const parent = parentOf(body, path);
    const key = path[path.length - 1]!;
    if (parent === null) continue;
    if (value === undefined) delete parent[key];
    else parent[key] = value;
  }
  return JSON.stringify(body);
}

function fieldName(path: FieldPath): string {
  return path.join('.');
}

/** Appends raw members to a JSON object's text; `"__proto__"` written this way stays a plain key. */
function withRawMembers(json: string, members: string): string {
  return `${json.slice(0, -1)},${members}}`;
}

function validBody(dialect: Dialect, order: TestOrder): ValidBody {
  const text = buildConfirmBody(dialect, order);
  return { text, parsed: JSON.parse(text) as JsonObject, order };
}

function badInputs(dialect: Dialect, idsAreChecked: boolean): BadInput[] {
  const fields = DIALECT_FIELDS[dialect];
  const withField = (path: FieldPath, value: unknown) => (valid: ValidBody) => edited(valid.parsed, [[path, value]]);
  const inputs: BadInput[] = [
    { label: 'invalid JSON (the body cut in half)', expect: 'refuse', body: (valid) => valid.text.slice(0, Math.floor(valid.text.length / 2)) },
    { label: 'empty body', expect: 'refuse', body: () => '' },
    { label: 'Content-Type text/plain', expect: 'refuse', body: (valid) => valid.text, contentType: 'text/plain' },
    { label: 'a JSON array instead of an object', expect: 'refuse', body: (valid) => `[${valid.text}]` },
  ];
  for (const group of fields.required) {
    inputs.push({
      label: `missing ${group.map(fieldName).join(' and ')}`,
      expect: 'refuse',
      body: (valid) => edited(valid.parsed, group.map((path) => [path, undefined])),
    });
  }
  const { amount } = fields;
  if (amount !== null) {
    inputs.push({
      label: `${fieldName(amount)} as a string`,
      expect: 'refuse',
      body: (valid) => edited(valid.parsed, [[amount, String(valid.order.amount)]]),
    });
  }
  const orderId = fieldName(fields.orderId);
  inputs.push(
    { label: `${orderId} as a number`, expect: 'refuse', body: withField(fields.orderId, 12345) },
    { label: `${orderId} as {"$gt": ""}`, expect: 'refuse', body: withField(fields.orderId, { $gt: '' }) },
    {
      label: `${orderId} of ${MERCHANT_UID_MAX_LENGTH + 1} characters`,
      expect: 'refuse',
      body: withField(fields.orderId, 'x'.repeat(MERCHANT_UID_MAX_LENGTH + 1)),
    },
    {
      label: 'a 1 MiB body',
      expect: 'refuse',
      body: (valid) => withRawMembers(valid.text, `"padding":"${'x'.repeat(HUGE_BODY_BYTES - valid.text.length)}"`),
    },
  );
  for (const id of HOSTILE_IDS) {
    inputs.push({ label: `${orderId} ${quotedId(id)}`, expect: idsAreChecked ? 'refuse' : 'answer', body: withField(fields.orderId, id) });
  }
  inputs.push({
    label: 'extra fields __proto__, constructor and nested junk',
    expect: 'answer',
    body: (valid) =>
      withRawMembers(valid.text, '"__proto__":{"amount":1,"admin":true},"constructor":{"prototype":{"polluted":true}},"extra":[1,{"deep":[null]}]'),
  });
  return inputs;
}

function handled(expect: Expectation, result: FireResult): boolean {
  // A hang costs the gateway its whole timeout and holds a connection per buyer: never a good answer.
  if (result.answer.kind === 'no-answer' && result.answer.error === 'timeout') return false;
  return expect === 'refuse' ? !result.decision.proceed : result.answer.kind === 'http';
}

/** Mishandled inputs named in the message; the details list every one. */
const NAMED_IN_MESSAGE = 5;

function shortAnswer(result: FireResult): string {
  return result.answer.kind === 'http' ? `HTTP ${result.answer.status}` : `no answer (${result.answer.error})`;
}

async function confirmGoodOrder(context: CaseContext): Promise<FireResult> {
  await context.restock();
  return context.confirm(await context.knownOrder());
}

export const survivesBadInput: ContractCase = {
  id: 6,
  name: 'survives-bad-input',
  title: 'bad input never gets 200 and does not bring the endpoint down',
  doc:
    'Sends, each for an otherwise valid order (and signed when there is a secret, so the signature is not what ' +
    'refuses it): invalid JSON, an empty body, Content-Type text/plain, a JSON array, each required field ' +
    'missing, wrong types (amount as a string, the order id as a number or {"$gt": ""}), an id over 40 ' +
    'characters, a 1 MiB body, hostile ids (SQL, path, script, JNDI, unicode, NUL) and extra fields such as ' +
    '__proto__. None may get 200 (hostile ids of an open-orders merchant, which knows every id, and extra fields ' +
    'only need an answer) and none may hang. Then a good confirm must still get 200.',
  unmet: () => null,
  async run(context) {
    const inputs = badInputs(context.dialect, context.setup.hooks.order !== undefined);
    // Inputs an open-orders merchant may accept each take stock, and the good confirm after them needs some too.
    const mayTakeStock = inputs.filter((input) => input.expect === 'answer').length + 1;
    await context.startingStock(mayTakeStock * context.setup.product.quantity);
    const probes: Record<string, unknown>[] = [];
    const mishandled: string[] = [];
    for (const input of inputs) {
      const order = await context.knownOrder();
      const result = await context.confirm(order, { body: input.body(validBody(context.dialect, order)), contentType: input.contentType });
      const ok = handled(input.expect, result);
      probes.push({ input: input.label, expect: input.expect, ok, ...exchangeDetails(result) });
      if (!ok) mishandled.push(`${input.label} → ${shortAnswer(result)}`);
    }
    const good = await confirmGoodOrder(context);
    const details = { probes, goodConfirmAfterwards: exchangeDetails(good) };
    const problems: string[] = [];
    if (mishandled.length > 0) {
      const more = mishandled.length > NAMED_IN_MESSAGE ? ` and ${mishandled.length - NAMED_IN_MESSAGE} more (see the details)` : '';
      problems.push(
        `${mishandled.length} of ${inputs.length} bad inputs were mishandled: ${mishandled.slice(0, NAMED_IN_MESSAGE).join('; ')}${more}; ` +
          'the contract wants garbage refused (any status but 200) and no input left hanging',
      );
    }
    if (!good.decision.proceed) {
      // An order the merchant never heard of is refused whatever came before: that is the set-up, not the bad input.
      const unknown = good.answer.kind === 'http' && saysUnknownOrder(good.answer.status, refusalDetail(context.dialect, good.answer.body));
      problems.push(
        unknown
          ? `a good confirm sent afterwards got ${describeAnswer(good)}: the merchant does not know the order, so this says nothing about the bad input; ${UNKNOWN_ORDER_FIX}`
          : `a good confirm sent afterwards got ${describeAnswer(good)}; the contract wants HTTP 200, so the bad input left the endpoint unable to confirm`,
      );
    }
    if (problems.length > 0) return outcome('failed', problems.join('. '), details);
    return outcome('passed', `refused or survived all ${inputs.length} bad inputs and then confirmed a good order with HTTP 200`, details);
  },
};
