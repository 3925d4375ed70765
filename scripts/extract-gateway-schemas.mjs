#!/usr/bin/env node
// Vendors the answer schemas the simulated gateway must satisfy into fixtures/, because a user's clone has the
// repository but not the gateway's OpenAPI descriptions beside it.
//
//   node scripts/extract-gateway-schemas.mjs [iamport-v1.openapi.json] [portone-v2.openapi.json] [output folder]
//
// (test/gateway-v2.test.ts runs it into a temporary folder and compares, whenever the sources are beside the
// repository or CONFIRM_SIM_REFERENCE names their folder, so the fixtures cannot drift from them or be edited by hand.)
//
// The output is strict: nothing is loosened. It differs from the sources only where JSON Schema (ajv) needs
// another spelling of the same rule, or where the source states a rule in prose:
// - prose (description, title, example) and the docs site's x-* annotations go: ajv's strict mode rejects
//   unknown keywords, and the prose is not ours to redistribute;
// - V1 (Swagger 2.0): maxLength written as a string ("32") becomes a number; a schema with properties says
//   "type": "object", which Swagger implies; a required name no property defines is dropped
//   (PaymentPrepareAnnotation requires total, previous and next, copied from a paged list schema);
// - V1 has no "nullable" keyword, so the file says it in prose: a property may be null only where its own
//   description says it is shown as null (fail_reason, cancel_reason, card_type, customer_uid_usage). Every
//   other property is of its stated type whenever it is present. The envelope is the one exception: the
//   file types `message` as a string, yet says it carries a message only when code is not 0, and the API
//   answers `message: null` on success and `response: null` on a refusal (CONTRACT.md), so those two may be null;
// - V1 lists a string's values in prose ("- ready : 미결제" lines): those become its enum (status);
// - V1: each operation the gateway serves is kept in `operations` with the schema of every documented answer;
// - V2 (OpenAPI 3.0): `discriminator` becomes a `const` on the discriminating property of each branch it
//   maps, which makes oneOf an exact tagged union (ajv does not read discriminator mappings); `nullable`
//   would become a null type (V2 has none); `#/components/schemas/` refs become `#/definitions/`;
// - V2 errors: each error's HTTP status (x-portone-status-code) is kept in `errorStatus`, and each operation
//   the gateway serves is kept in `operations` with the schema of every documented answer.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repoRoot = new URL('../', import.meta.url);
const reference = (name) => fileURLToPath(new URL(`../shared/reference/${name}`, repoRoot));
const v1Source = process.argv[2] ?? reference('iamport-v1.openapi.json');
const v2Source = process.argv[3] ?? reference('portone-v2.openapi.json');
const outputFolder = process.argv[4] === undefined ? fileURLToPath(new URL('fixtures/', repoRoot)) : `${process.argv[4].replace(/\/$/, '')}/`;
const output = (name) => `${outputFolder}${name}`;

const PROSE = new Set(['description', 'title', 'example']);

function isProse(key) {
  return PROSE.has(key) || key.startsWith('x-');
}

function collectRefs(node, prefix, definitions, into) {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, prefix, definitions, into);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref') {
        if (!value.startsWith(prefix)) throw new Error(`unexpected $ref ${value}`);
        const name = value.slice(prefix.length);
        if (definitions[name] === undefined) throw new Error(`$ref to a missing schema ${name}`);
        if (!into.has(name)) {
          into.add(name);
          collectRefs(definitions[name], prefix, definitions, into);
        }
      } else {
        collectRefs(value, prefix, definitions, into);
      }
    }
  }
}

function write(name, document) {
  writeFileSync(output(name), `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`wrote ${Object.keys(document.definitions).length} schemas to fixtures/${name}\n`);
}

// ---- V1 -------------------------------------------------------------------------------------------------

const V1_ROOTS = [
  'ResponseAnnotation',
  'AuthResponse',
  'PaymentResponse',
  'MultiplePaymentsResponse',
  'PaymentListResponse',
  'PaymentPrepareResponse',
];
const V1_ENVELOPE_NULLABLE = new Set(['message', 'response']);

function v1SaysNull(property) {
  return /\bnull\b/i.test(`${property.description ?? ''}\n${property['x-portone-description'] ?? ''}`);
}

/** `- ready : 미결제` lines in a string's description are its values. */
function v1ProseEnum(property) {
  if (property.type !== 'string') return undefined;
  const lines = (property['x-portone-description'] ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
  const values = lines.map((line) => /^- ([a-z_.]+) : /.exec(line)?.[1]);
  return lines.length > 1 && values.every(Boolean) ? values : undefined;
}

function nullable(schema) {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
}

function cleanV1(node, { envelope = false } = {}) {
  if (Array.isArray(node)) return node.map((item) => cleanV1(item));
  if (node === null || typeof node !== 'object') return node;
  const result = {};
  if (node.properties !== undefined && node.type === undefined) result.type = 'object';
  for (const [key, value] of Object.entries(node)) {
    if (isProse(key)) continue;
    if (key === 'maxLength') {
      result.maxLength = Number(value);
    } else if (key === 'properties') {
      result.properties = Object.fromEntries(
        Object.entries(value).map(([name, property]) => {
          let schema = cleanV1(property);
          const values = v1ProseEnum(property);
          if (values) schema = { ...schema, enum: values };
          const mayBeNull = v1SaysNull(property) || (envelope && V1_ENVELOPE_NULLABLE.has(name));
          return [name, mayBeNull ? nullable(schema) : schema];
        }),
      );
    } else if (key === 'required') {
      const defined = new Set(Object.keys(node.properties ?? {}));
      const kept = value.filter((name) => defined.has(name));
      if (kept.length > 0) result.required = kept;
    } else if (key === 'allOf') {
      // An answer is the envelope plus its `response`: that part of the envelope may be null on a refusal.
      result.allOf = value.map((part) => cleanV1(part, { envelope: true }));
    } else {
      result[key] = cleanV1(value);
    }
  }
  return result;
}

function readSource(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    process.stderr.write(`cannot read ${path}: ${error.message}\ngive the paths: node scripts/extract-gateway-schemas.mjs <v1 file> <v2 file>\n`);
    process.exit(2);
  }
}

/** The V1 operations the simulated gateway serves. */
const V1_OPERATIONS = [
  ['post', '/users/getToken'],
  ['get', '/payments/prepare/{merchant_uid}'],
  ['post', '/payments/prepare'],
  ['put', '/payments/prepare'],
  ['get', '/payments/status/{payment_status}'],
  ['get', '/payments/find/{merchant_uid}/{payment_status}'],
  ['get', '/payments/findAll/{merchant_uid}/{payment_status}'],
  ['post', '/payments/cancel'],
  ['get', '/payments'],
  ['get', '/payments/{imp_uid}'],
];
const V1_PREFIX = '#/definitions/';

const v1 = readSource(v1Source);
const v1Operations = {};
for (const [method, path] of V1_OPERATIONS) {
  const operation = v1.paths[path]?.[method];
  if (!operation) throw new Error(`the V1 file has no ${method.toUpperCase()} ${path}`);
  const responses = {};
  for (const [status, response] of Object.entries(operation.responses)) {
    const ref = response.schema?.$ref;
    if (typeof ref !== 'string') continue;
    if (!ref.startsWith(V1_PREFIX)) throw new Error(`${method} ${path} ${status}: unexpected $ref ${ref}`);
    const name = ref.slice(V1_PREFIX.length);
    if (!V1_ROOTS.includes(name)) throw new Error(`${method} ${path} ${status} answers ${name}, which V1_ROOTS does not extract`);
    responses[status] = name;
  }
  v1Operations[`${method.toUpperCase()} ${path}`] = { method: method.toUpperCase(), path, responses };
}
const v1Names = new Set(V1_ROOTS);
for (const root of V1_ROOTS) collectRefs(v1.definitions[root], V1_PREFIX, v1.definitions, v1Names);
write('iamport-v1-schemas.json', {
  $comment: 'Generated by scripts/extract-gateway-schemas.mjs from the V1 OpenAPI description; see the script for what differs from the source.',
  operations: v1Operations,
  definitions: Object.fromEntries(
    [...v1Names].sort().map((name) => [name, cleanV1(v1.definitions[name], { envelope: name === 'ResponseAnnotation' })]),
  ),
});

// ---- V2 -------------------------------------------------------------------------------------------------

/** The operations the simulated V2 API serves. */
const V2_OPERATIONS = [
  ['get', '/payments/{paymentId}'],
  ['post', '/payments/{paymentId}/pre-register'],
  ['post', '/payments/{paymentId}/cancel'],
  ['get', '/payments'],
  ['post', '/payments/{paymentId}/confirm'],
];
const V2_PREFIX = '#/components/schemas/';

const v2 = readSource(v2Source);
const v2Schemas = v2.components.schemas;

function schemaName(schema, where) {
  const ref = schema?.$ref;
  if (typeof ref !== 'string' || !ref.startsWith(V2_PREFIX)) throw new Error(`${where}: expected a $ref to a named schema`);
  return ref.slice(V2_PREFIX.length);
}

const operations = {};
const v2Names = new Set();
for (const [method, path] of V2_OPERATIONS) {
  const operation = v2.paths[path]?.[method];
  if (!operation) throw new Error(`the V2 file has no ${method.toUpperCase()} ${path}`);
  const responses = {};
  for (const [status, response] of Object.entries(operation.responses)) {
    const name = schemaName(response.content?.['application/json']?.schema, `${operation.operationId} ${status}`);
    responses[status] = name;
    v2Names.add(name);
  }
  operations[operation.operationId] = { method: method.toUpperCase(), path, responses };
}
for (const name of [...v2Names]) collectRefs(v2Schemas[name], V2_PREFIX, v2Schemas, v2Names);

// Discriminators: branch schema -> { property, value }. A branch tagged two ways would be a contradiction.
const tags = new Map();
for (const name of v2Names) {
  const { discriminator, oneOf } = v2Schemas[name];
  if (!discriminator) continue;
  if (!oneOf) throw new Error(`${name}: a discriminator without oneOf`);
  const mapping = discriminator.mapping ?? {};
  if (Object.keys(mapping).length !== oneOf.length) throw new Error(`${name}: the mapping does not name every branch`);
  for (const [value, ref] of Object.entries(mapping)) {
    const branch = schemaName({ $ref: ref }, name);
    const tag = { property: discriminator.propertyName, value };
    const known = tags.get(branch);
    if (known && (known.property !== tag.property || known.value !== tag.value)) {
      throw new Error(`${branch} is tagged ${known.property}=${known.value} and ${tag.property}=${tag.value}`);
    }
    tags.set(branch, tag);
  }
}

const errorStatus = {};
for (const name of v2Names) {
  const status = v2Schemas[name]['x-portone-status-code'];
  const tag = tags.get(name);
  if (status !== undefined && tag?.property === 'type') errorStatus[tag.value] = status;
}

function cleanV2(node) {
  if (Array.isArray(node)) return node.map(cleanV2);
  if (node === null || typeof node !== 'object') return node;
  const result = {};
  for (const [key, value] of Object.entries(node)) {
    if (isProse(key) || key === 'discriminator') continue;
    if (key === '$ref') {
      result.$ref = `#/definitions/${schemaName(node, 'a $ref')}`;
    } else if (key === 'nullable') {
      if (value === true) result.type = [node.type, 'null'];
    } else if (key === 'properties') {
      result.properties = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, cleanV2(schema)]));
    } else if (!(key === 'type' && node.nullable === true)) {
      result[key] = cleanV2(value);
    }
  }
  return result;
}

const v2Definitions = {};
for (const name of [...v2Names].sort()) {
  const schema = cleanV2(v2Schemas[name]);
  const tag = tags.get(name);
  if (tag) {
    const property = schema.properties?.[tag.property];
    if (!property || !(schema.required ?? []).includes(tag.property)) {
      throw new Error(`${name}: the discriminating property ${tag.property} is not a required property`);
    }
    schema.properties[tag.property] = { ...property, const: tag.value };
  }
  v2Definitions[name] = schema;
}

write('portone-v2-schemas.json', {
  $comment: 'Generated by scripts/extract-gateway-schemas.mjs from the V2 OpenAPI description; see the script for what differs from the source.',
  info: { version: v2.info?.version },
  operations,
  errorStatus: Object.fromEntries(Object.entries(errorStatus).sort(([a], [b]) => a.localeCompare(b))),
  definitions: v2Definitions,
});
