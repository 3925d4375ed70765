import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import AjvModule, { type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';

/**
 * Strict validators for every answer of the simulated gateway, built from the schemas
 * scripts/extract-gateway-schemas.mjs takes out of the gateway's own OpenAPI files without loosening them.
 */
const Ajv = AjvModule.default;
const addFormats = formatsModule.default;

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../../fixtures/${name}`, import.meta.url), 'utf8'));
}

export interface V1SchemaDocument {
  operations: Record<string, { method: string; path: string; responses: Record<string, V1SchemaName> }>;
  definitions: Record<string, { properties?: Record<string, { maxLength?: number; enum?: string[] }>; required?: string[] }>;
}

export interface V2SchemaDocument {
  operations: Record<string, { method: string; path: string; responses: Record<string, string> }>;
  errorStatus: Record<string, number>;
  definitions: Record<string, { properties?: Record<string, unknown>; required?: string[]; oneOf?: unknown[] }>;
}

export const v1Schemas = fixture('iamport-v1-schemas.json') as V1SchemaDocument;
export const v2Schemas = fixture('portone-v2-schemas.json') as V2SchemaDocument;

const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
addFormats(ajv);
ajv.addSchema({ definitions: v1Schemas.definitions }, 'iamport-v1');
ajv.addSchema({ definitions: v2Schemas.definitions }, 'portone-v2');

function validator(id: string): ValidateFunction {
  const validate = ajv.getSchema(id);
  assert.ok(validate, `no schema ${id}`);
  return validate;
}

export type V1SchemaName =
  | 'ResponseAnnotation'
  | 'AuthResponse'
  | 'PaymentResponse'
  | 'MultiplePaymentsResponse'
  | 'PaymentListResponse'
  | 'PaymentPrepareResponse'
  | 'PaymentAnnotation';

/** Whether a V1 answer satisfies a schema; the errors say why not. */
export function checkV1(name: V1SchemaName, body: unknown): string | null {
  const validate = validator(`iamport-v1#/definitions/${name}`);
  return validate(body) ? null : ajv.errorsText(validate.errors);
}

export function assertV1(name: V1SchemaName, body: unknown): void {
  const problem = checkV1(name, body);
  assert.equal(problem, null, `${name}: ${problem}\n${JSON.stringify(body)}`);
}

/**
 * The V1 operations as the gateway's routes: the file writes `find` and `findAll` with a `{payment_status}`
 * that the clients leave out for "any", so a last `{payment_status}` may be missing.
 */
const V1_OPERATIONS = Object.values(v1Schemas.operations).map((operation) => ({
  ...operation,
  pattern: new RegExp(`^${operation.path.replace(/\/\{payment_status\}$/, '(?:/[^/]+)?').replace(/\{[a-z_]+\}/g, '[^/]+')}$`),
}));

/**
 * A V1 answer as the file documents it: always the envelope; a success (code 0) under an HTTP status its
 * operation documents, in that status's schema; a refusal with a message and `response: null`.
 */
export function assertV1Answer(method: string, pathname: string, status: number, body: unknown): void {
  const where = `${method} ${pathname} ${status}`;
  assertV1('ResponseAnnotation', body);
  const operation = V1_OPERATIONS.find((candidate) => candidate.method === method && candidate.pattern.test(pathname));
  assert.ok(operation, `${where}: not an operation the V1 file documents`);
  const { code, message, response } = body as { code: number; message: unknown; response: unknown };
  if (code !== 0) {
    assert.equal(response, null, `${where}: a refusal has no response`);
    assert.equal(typeof message, 'string', `${where}: a refusal says why`);
    return;
  }
  const name = operation.responses[String(status)];
  assert.ok(name, `${where}: ${operation.method} ${operation.path} does not document HTTP ${status} (it documents ${Object.keys(operation.responses).join(', ')})`);
  assertV1(name, body);
}

/** The schema a V2 operation documents for an HTTP status; a status it does not document is a failure. */
export function v2SchemaFor(operationId: string, status: number): string {
  const operation = v2Schemas.operations[operationId];
  assert.ok(operation, `the V2 file has no operation ${operationId}`);
  const name = operation.responses[String(status)];
  assert.ok(name, `${operationId} does not document HTTP ${status} (it documents ${Object.keys(operation.responses).join(', ')})`);
  return name;
}

export function checkV2(schemaName: string, body: unknown): string | null {
  const validate = validator(`portone-v2#/definitions/${schemaName}`);
  return validate(body) ? null : ajv.errorsText(validate.errors);
}

/** A V2 answer as the operation documents it for its HTTP status; an error's status must be its type's. */
export function assertV2(operationId: string, status: number, body: unknown): void {
  const name = v2SchemaFor(operationId, status);
  const problem = checkV2(name, body);
  assert.equal(problem, null, `${operationId} ${status} (${name}): ${problem}\n${JSON.stringify(body)}`);
  if (status >= 400) {
    const type = (body as { type?: string }).type ?? '';
    assert.equal(v2Schemas.errorStatus[type], status, `${type} is documented with HTTP ${v2Schemas.errorStatus[type]}, not ${status}`);
  }
}
