import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../src/cli.js';
import { runCli } from './helpers/cli.js';
import { startEcho } from './helpers/hostile-echo.js';
import { startFixedAnswer } from './helpers/hostile-raw.js';
import { maskUrl } from '../src/util/url.js';
import { isSensitiveHeader, maskHeaderValue } from '../src/util/secrets.js';

// Every secret a test sends: none may appear in any output, report or error.
const PASSWORD = 'pw_Hunter2Hunter2';
const QUERY_TOKEN = 'tok_QueryQuery42';
const BEARER = 'bearer_Sesame0pen';
const X_AUTH = 'xauth_Letme1n1n';
const X_PASSWORD = 'xpass_Swordfish9';
const HUB_SIGNATURE = 'sha256=HubHubSig77';
const X_SESSION = 'sess_Cookie1234';
const ADMIN_TOKEN = 'csadm_AdminAdmin1234';
const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRETS = [PASSWORD, QUERY_TOKEN, BEARER, X_AUTH, X_PASSWORD, HUB_SIGNATURE, X_SESSION, ADMIN_TOKEN, WEBHOOK_SECRET.slice(6)];

const SENSITIVE_HEADERS = [
  `Authorization: Bearer ${BEARER}`,
  `X-Auth: ${X_AUTH}`,
  `X-Password: ${X_PASSWORD}`,
  `X-Hub-Signature: ${HUB_SIGNATURE}`,
  `X-Session: ${X_SESSION}`,
];

function assertNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} shows ${secret}:\n${text.slice(0, 3000)}`);
}

function credentialUrl(port: number, path: string): string {
  return `http://shop:${PASSWORD}@127.0.0.1:${port}${path}?token=${QUERY_TOKEN}&id=7`;
}

test('maskUrl masks the userinfo and credential-like parameters, URL or not, and nothing else', () => {
  assert.equal(
    maskUrl('http://user:pass@127.0.0.1:3000/confirm?a=1&api_key=k&client_secret=s&x=y%20z#access_token=t'),
    'http://user:****@127.0.0.1:3000/confirm?a=1&api_key=****&client_secret=****&x=y%20z#access_token=****',
  );
  assert.equal(maskUrl('https://ghp_abc@github.com/x'), 'https://****@github.com/x');
  assert.equal(maskUrl('http://127.0.0.1/confirm?order=1&sig=abc&Session-Id=9'), 'http://127.0.0.1/confirm?order=1&sig=****&Session-Id=****');
  assert.equal(maskUrl('http://u:p4ss@[/x'), 'http://u:****@[/x');
  assert.equal(maskUrl('user:p4ss@127.0.0.1:3000/x'), 'user:****@127.0.0.1:3000/x');
  assert.equal(maskUrl('http://127.0.0.1:3000/confirm'), 'http://127.0.0.1:3000/confirm');
});

test('one header rule: names with auth, token, secret, signature, password, session, cookie or key are masked', () => {
  for (const name of ['Authorization', 'X-Auth', 'X-Password', 'X-Hub-Signature', 'X-Session', 'Cookie', 'Set-Cookie', 'X-Api-Key', 'X-ImpTokenHeader', 'X-Client-Secret']) {
    assert.ok(isSensitiveHeader(name), name);
    assert.equal(maskHeaderValue(name, 'v4lue'), '****', name);
  }
  for (const name of ['Content-Type', 'X-Request-Id', 'Accept']) assert.ok(!isSensitiveHeader(name), name);
  assert.equal(maskHeaderValue('Location', 'http://a:b@h/x?token=t'), 'http://a:****@h/x?token=****');
});

test('fire shows no credential it sent, though the merchant echoes every one back', async (t) => {
  const echo = await startEcho(t, `and your secret is ${WEBHOOK_SECRET}`);
  const headers = SENSITIVE_HEADERS.flatMap((header) => ['-H', header]);
  for (const json of [false, true]) {
    const run = await runCli(['fire', credentialUrl(echo.port, '/confirm'), '--dialect', 'v2-2024-04-25', '--secret', WEBHOOK_SECRET, ...headers, ...(json ? ['--json', '-'] : [])]);
    assert.equal(run.code, 0, run.stderr);
    assertNoSecret(run.stdout + run.stderr, `fire${json ? ' --json' : ''}`);
    assert.match(run.stdout, /shop:\*\*\*\*@127\.0\.0\.1/);
    assert.match(run.stdout, /token=\*\*\*\*&id=7/);
    if (json) {
      const result = JSON.parse(run.stdout) as { answer: { headers: Record<string, string>; body: string } };
      // The echo is there, masked: the harmless-looking X-Echo-N headers carry our values back.
      assert.ok(Object.values(result.answer.headers).includes('****'), JSON.stringify(result.answer.headers));
      assert.match(result.answer.body, /whsec_\*\*\*\*/);
    }
  }
});

test('burst masks credentials in output, --json, --ledger and errors; hooks that echo them too', async (t) => {
  const echo = await startEcho(t);
  const stock = await startFixedAnswer(t, `HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n0`);
  const dir = await mkdtemp(join(tmpdir(), 'cs-secrets-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const args = [
    'burst', credentialUrl(echo.port, '/confirm'), '-n', '5', '-s', '0',
    '--stock-url', credentialUrl(stock.port, '/stock'),
    '--hook-header', `Authorization: Bearer ${ADMIN_TOKEN}`,
    ...SENSITIVE_HEADERS.flatMap((header) => ['-H', header]),
    '--json', join(dir, 'report.json'), '--ledger', join(dir, 'ledger.ndjson'),
  ];
  const run = await runCli(args);
  assertNoSecret(run.stdout + run.stderr, 'burst output');
  assert.match(run.stdout, /shop:\*\*\*\*@/);
  for (const file of await readdir(dir)) assertNoSecret(await readFile(join(dir, file), 'utf8'), file);
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { target: string };
  assert.equal(report.target, `http://shop:****@127.0.0.1:${echo.port}/confirm?token=****&id=7`);

  // A reset hook that refuses, echoing the admin token and the URL: the refusal masks both.
  const refused = await runCli(['burst', credentialUrl(echo.port, '/confirm'), '-n', '2', '-s', '1', '--reset-url', credentialUrl(echo.port, '/reset'), '--hook-header', `Authorization: Bearer ${ADMIN_TOKEN}`]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--reset-url/);
  assertNoSecret(refused.stdout + refused.stderr, 'burst reset refusal');
});

test('check masks credentials in its output, JSON and JUnit reports, and hook errors', async (t) => {
  const echo = await startEcho(t);
  const dir = await mkdtemp(join(tmpdir(), 'cs-secrets-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const run = await runCli([
    'check', credentialUrl(echo.port, '/confirm'), '--grep', '^(1|2|3) ',
    '--order-url', credentialUrl(echo.port, '/orders'), '--reset-url', credentialUrl(echo.port, '/reset'), '--stock-url', credentialUrl(echo.port, '/stock'),
    '--hook-header', `Authorization: Bearer ${ADMIN_TOKEN}`,
    '--reporter', 'cli', '--reporter', 'json', '--reporter', 'junit', '--out', `json=${join(dir, 'check.json')}`, '--out', `junit=${join(dir, 'check.xml')}`,
  ]);
  assert.equal(run.code, 1, run.stderr);
  assertNoSecret(run.stdout + run.stderr, 'check output');
  assert.match(run.stdout, /reset hook/);
  for (const file of ['check.json', 'check.xml']) {
    const text = await readFile(join(dir, file), 'utf8');
    assertNoSecret(text, file);
    assert.match(text, /shop:\*\*\*\*@127\.0\.0\.1/, file);
  }
});

test('a malformed header or URL is refused without echoing the credential in it', async () => {
  for (const [command, flag] of [[['fire'], '-H'], [['burst', '-n', '1', '-s', '1'], '-H'], [['check'], '--hook-header']] as const) {
    const header = await runCli([...command, 'http://127.0.0.1:9/confirm', flag, `Authorization Bearer ${BEARER}`]);
    assert.equal(header.code, 2, header.stderr);
    assert.match(header.stderr, /header/);
    assertNoSecret(header.stderr, `${command[0]} -H`);
    const url = await runCli([...command, `http://shop:${PASSWORD}@[::1/confirm?token=${QUERY_TOKEN}`]);
    assert.equal(url.code, 2, url.stderr);
    assert.match(url.stderr, /not a URL/);
    assertNoSecret(url.stderr, `${command[0]} URL`);
  }
  const hook = await runCli(['burst', 'http://127.0.0.1:9/confirm', '-n', '1', '-s', '1', '--hook-header', `X-Session ${X_SESSION}`]);
  assert.equal(hook.code, 2);
  assertNoSecret(hook.stderr, '--hook-header');
});

test('gateway: the banner shows no key or secret given, and the log masks a merchant echoing one', async (t) => {
  const controller = new AbortController();
  const impKey = 'impkey_GivenGiven1';
  const apiSecret = 'apisecret_GivenGiven2';
  const echo = await startEcho(t, `I know ${apiSecret}`);
  const stdout = new PassThrough();
  let output = '';
  stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  // --verbose: the confirm call's own log line (with the merchant's echo) is printed only then.
  const args = ['gateway', '--port', '0', '--verbose', '--imp-key', impKey, '--imp-secret', X_PASSWORD, '--api-secret', apiSecret, '--secret', WEBHOOK_SECRET];
  const running = main(['node', 'confirm-sim', ...args], { stdout, stderr: new PassThrough(), env: { NO_COLOR: '1' }, signal: controller.signal });
  t.after(() => controller.abort());
  while (!/listening on (\S+)/.test(output)) await sleep(20);
  const base = /listening on (\S+)/.exec(output)![1]!;
  const paid = await fetch(`${base}/sim/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ merchant_uid: 'order-secret-1', amount: 1000, confirm_url: credentialUrl(echo.port, '/confirm') }),
  });
  assert.ok(paid.status < 500, String(paid.status));
  while (!output.includes('order-secret-1 confirm')) await sleep(20);
  controller.abort();
  assert.equal(await running, 0);
  for (const secret of [impKey, apiSecret, X_PASSWORD, WEBHOOK_SECRET.slice(6), PASSWORD, QUERY_TOKEN]) {
    assert.ok(!output.includes(secret), `gateway output shows ${secret}:\n${output}`);
  }
  assert.match(output, /shop:\*\*\*\*@127\.0\.0\.1/);
});
