import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ResponseParser } from '../http/llhttp.js';
import { MAX_ANSWER_BODY_BYTES, isInterimStatus, isUnaskedUpgrade, isValidStatus } from '../http/answer-rules.js';
import type { BurstPlan } from './options.js';
import type { ArrivalSchedule, SliceSpec } from './schedule.js';
import { arrivalPosition, arrivalSchedule, intendedOffsetMs, totalRequests } from './schedule.js';
import { CompletionRequestBuilder, ConfirmRequestBuilder, type RequestBuilder } from './requests.js';
import { completionRefusalDetail, type TokenTableData } from '../protocol/completion.js';
import { isSuccessStatus } from '../protocol/flows.js';
import { Flag, Outcome, OutcomeStore, noAnswerKindCode } from './outcomes.js';
import type { OutcomeCode } from './outcomes.js';
import type { LoopHealth } from './self-check.js';
import { LoopMonitor } from './self-check.js';

/** Live counters, readable while the run goes (from another thread too, when backed by a SharedArrayBuffer). */
export const Counter = {
  Sent: 0,
  Accepted: 1,
  Refused: 2,
  Timeouts: 3,
  Errors: 4,
  InFlight: 5,
  Settled: 6,
  Stranded: 7,
} as const;
export const COUNTER_SLOTS = 8;

/** Connects never run more than this many at once: a listen backlog overflow silently adds 1 s SYN retries. */
const CONNECT_CONCURRENCY = 256;
/**
 * Kept of a refusal body to read its `reason` / `errorMessage`: a JSON body cut short does not parse, so this
 * is generous, but never a whole error page. Only the answer in flight on each socket holds it.
 */
export const MAX_KEPT_BODY = 16 * 1024;

/** Error codes that mean this machine ran out of something, not that the target failed. */
const LOCAL_RESOURCE_ERRORS = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'ENOMEM']);

export interface SliceEngineOptions {
  plan: BurstPlan;
  slice: SliceSpec;
  /** Sockets sending requests at once. */
  connections: number;
  /** Sockets this engine may hold in total, counting those kept open past a timeout to catch late answers. */
  socketBudget: number;
  /** Where live counters go; pass a view on a SharedArrayBuffer to read them from another thread. */
  counters?: Int32Array | undefined;
  /**
   * Told what the gateway makes of each request the moment it is known: the status of an answer in time,
   * or null for no answer in time (timeout, connection error). Late answers and unsent requests are not told.
   * The body is given for refusals only. Called on the hot path: keep it cheap.
   */
  onAnswer?: ((request: number, status: number | null, body: string | undefined) => void) | undefined;
  /** manual-confirm: every buyer's paymentToken, indexed by global buyer; required for such a plan. */
  tokens?: TokenTableData | undefined;
}

/** What one engine measured besides the per-request outcomes. Times are ms after the barrier. */
export interface SliceMeasurements {
  barrierEpochMs: number;
  firstSentMs: number | null;
  lastSentMs: number | null;
  /** Burst mode: first to last write of the opening wave, the requests written behind the barrier. */
  waveSpreadMs: number | null;
  waveSize: number;
  endedMs: number;
  targetDownAtMs: number | null;
  /** Timed-out requests whose socket had to be closed at once (socket budget), so a late 200 went unseen. */
  strandedUnobserved: number;
  /** Connection failures caused by this machine's limits (EMFILE, EADDRNOTAVAIL...). */
  localErrors: number;
  localErrorExample: string | null;
  connectionsOpened: number;
  bytesWritten: number;
  bytesRead: number;
  /** From the first connect to the whole pool being open (or given up on), before the barrier. */
  connectMs: number;
  /** Connects of the pool still not through after the timeout, given up on before the barrier. */
  connectTimeouts: number;
  /** Answers that came with no request in flight: each poisoned (closed) its connection. */
  strayAnswers: number;
  interrupted: boolean;
  loop: LoopHealth;
}

interface Connection {
  socket: net.Socket;
  parser: ResponseParser;
  connected: boolean;
  /** No further request may go on it (server said close, or it ended). */
  dead: boolean;
  closed: boolean;
  /** Counted in the pool of sending sockets (not yet closed, timed out or retired). */
  pooled: boolean;
  /** Kept open past the gateway's timeout to see whether a late answer comes, until this performance.now(). */
  retiredUntil: number;
  request: number;
  sentPerf: number;
  status: number;
  keepAlive: boolean;
  /** The refusal body read so far (at most MAX_KEPT_BODY bytes), decoded once the answer is complete. */
  body: Buffer[];
  bodyBytes: number;
  /** Every body byte of the answer being read, kept or not, against MAX_ANSWER_BODY_BYTES. */
  bodyTotal: number;
  /** Why the connection was given up on mid-answer: its request is a connection error of this kind. */
  broken: 'invalid-http' | 'body-too-large' | null;
  /** Inside the parser's execute(): a freed connection waits for the rest of the chunk before its next request. */
  parsing: boolean;
  /** An answer completed during this execute(); the connection is reused once the chunk is parsed. */
  releasePending: boolean;
  error: NodeJS.ErrnoException | null;
}

/**
 * Drives one thread's slice of a burst over raw sockets: connections are opened first, each buyer's request
 * bytes are built (the opening wave before the barrier), one request is in flight per keep-alive socket, and
 * answers are parsed with Node's own llhttp, by the rules fire applies (src/http). Outcomes go into typed
 * arrays, never objects.
 *
 * An answer that arrives with no request in flight (a stray) poisons its connection: it is closed and counted,
 * never credited to the buyer whose request goes out next. A connection freed by an answer takes its next
 * request only once the whole chunk that answer came in is parsed, so a stray sent right behind an answer is
 * seen as one. (A stray the merchant sends later, after the next request went out, cannot be told from that
 * request's answer by any client; the merchant's next answer then arrives with nothing in flight and poisons
 * the connection.)
 */
export class SliceEngine {
  readonly store: OutcomeStore;
  readonly counters: Int32Array;
  readonly #plan: BurstPlan;
  readonly #schedule: ArrivalSchedule;
  readonly #builder: RequestBuilder;
  /** The answers that count as accepted: 200 for the gateway's confirm, the merchant's own success for a completion. */
  readonly #accepts: (status: number) => boolean;
  readonly #maxConnections: number;
  readonly #socketBudget: number;
  readonly #free: Connection[] = [];
  readonly #busy = new Set<Connection>();
  readonly #retired = new Set<Connection>();
  readonly #all = new Set<Connection>();
  #active = 0;
  #cursor = 0;
  #prebuilt: Array<Buffer | undefined> = [];
  #barrierPerf = 0;
  #barrierEpochMs = 0;
  #firstSentPerf = Number.NaN;
  #lastSentPerf = Number.NaN;
  #waveSpreadMs: number | null = null;
  #waveSize = 0;
  #targetDownAtMs: number | null = null;
  #strandedUnobserved = 0;
  #localErrors = 0;
  #localErrorExample: string | null = null;
  #connectionsOpened = 0;
  #bytesWritten = 0;
  #bytesRead = 0;
  #connectMs = 0;
  #connectTimeouts = 0;
  #strayAnswers = 0;
  #stopped = false;
  #interrupted = false;
  #finished = false;
  #pumpTimer: NodeJS.Timeout | null = null;
  #sweepTimer: NodeJS.Timeout | null = null;
  #drainTimer: NodeJS.Timeout | null = null;
  readonly #loop = new LoopMonitor();
  readonly #onAnswer: SliceEngineOptions['onAnswer'];
  #resolveDone: ((result: SliceMeasurements) => void) | null = null;

  constructor(options: SliceEngineOptions) {
    this.#plan = options.plan;
    this.store = new OutcomeStore(options.slice, options.plan.duplicates);
    this.#schedule = arrivalSchedule(
      options.plan.mode,
      totalRequests(options.plan.buyers, options.plan.duplicates),
      options.plan.rampMs,
      options.plan.ratePerSec,
    );
    const completion = options.plan.completion;
    if (completion !== null) {
      if (options.tokens === undefined) throw new Error('a manual-confirm run needs the payment tokens minted for its buyers');
      this.#builder = new CompletionRequestBuilder(options.plan, options.tokens);
      this.#accepts = (status) => isSuccessStatus(completion.success, status);
    } else {
      this.#builder = new ConfirmRequestBuilder(options.plan);
      this.#accepts = (status) => status === 200;
    }
    this.#socketBudget = Math.max(1, options.socketBudget);
    this.#maxConnections = Math.max(1, Math.min(options.connections, this.store.requests, this.#socketBudget));
    this.counters = options.counters ?? new Int32Array(COUNTER_SLOTS);
    this.#onAnswer = options.onAnswer;
  }

  get connections(): number {
    return this.#maxConnections;
  }

  /** Opens the connection pool and, in burst mode, builds the opening wave's bytes, all before any clock runs. */
  async prepare(): Promise<void> {
    const wanted = this.#maxConnections;
    const connectStart = performance.now();
    for (let started = 0; started < wanted && !this.#stopped; started += CONNECT_CONCURRENCY) {
      const batch: Array<Promise<void>> = [];
      for (let i = started; i < Math.min(wanted, started + CONNECT_CONCURRENCY); i++) batch.push(this.#preconnect());
      await Promise.all(batch);
    }
    this.#connectMs = performance.now() - connectStart;
    if (this.#stopped) return;
    // The server accepts connections in the order they were made, and may still be accepting when the first
    // requests go out: the earliest buyers go on the earliest connections (the free list pops from its end).
    this.#free.reverse();
    if (this.#schedule.mode === 'burst') {
      this.#waveSize = Math.min(this.#maxConnections, this.store.requests);
      this.#prebuilt = new Array<Buffer | undefined>(this.#waveSize);
      for (let r = 0; r < this.#waveSize; r++) this.#prebuilt[r] = this.#requestBytes(r);
    }
  }

  /**
   * Starts dispatch (the barrier) and resolves once every request has an outcome. `startEpochMs` is the instant
   * (unix ms) several threads agreed to start at: the schedule counts from it even when this thread woke a few
   * ms late, so every thread's times share one origin and a late thread shows as behind schedule. Without it
   * the barrier is now.
   */
  run(startEpochMs?: number): Promise<SliceMeasurements> {
    const done = new Promise<SliceMeasurements>((resolve) => (this.#resolveDone = resolve));
    this.#loop.start();
    const now = performance.now();
    // performance.timeOrigin + now() is one clock in every thread of a process (one time origin, unlike now() alone).
    this.#barrierPerf = startEpochMs === undefined ? now : Math.min(now, startEpochMs - performance.timeOrigin);
    this.#barrierEpochMs = performance.timeOrigin + this.#barrierPerf;
    const tick = Math.min(100, Math.max(2, this.#plan.timeoutMs / 10));
    this.#sweepTimer = setInterval(() => this.#sweep(), tick);
    if (this.#stopped) {
      this.#markUnsent(Outcome.NotSent, 0);
      this.#finish();
      return done;
    }
    this.#pump();
    if (this.#schedule.mode === 'burst' && this.#waveSize > 0) {
      this.#waveSpreadMs = this.#lastSentPerf - this.#firstSentPerf;
    }
    this.#prebuilt = [];
    this.#checkDone();
    return done;
  }

  /**
   * Stops sending (Ctrl-C), waits up to `drainMs` for answers already on their way, and counts whatever is
   * still in flight then as aborted, so the partial report says exactly what was and was not judged.
   */
  abort(drainMs: number): void {
    if (this.#finished || this.#interrupted) return;
    this.#interrupted = true;
    this.#stopped = true;
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    if (!this.#resolveDone) return;
    this.#markUnsent(Outcome.NotSent, 0);
    for (const connection of this.#retired) this.#close(connection);
    this.#retired.clear();
    if (this.#busy.size === 0) {
      this.#finish();
      return;
    }
    this.#drainTimer = setTimeout(() => {
      for (const connection of this.#busy) {
        this.#settle(connection.request, Outcome.Aborted);
        connection.request = -1;
      }
      this.#finish();
    }, drainMs);
  }

  #now(): number {
    return performance.now() - this.#barrierPerf;
  }

  #intendedMs(request: number): number {
    const buyer = this.store.globalBuyer(request);
    const duplicate = (this.store.arrays.flags[request]! & Flag.Duplicate) !== 0 ? 1 : 0;
    return intendedOffsetMs(this.#schedule, arrivalPosition(buyer, this.#plan.duplicates) + duplicate);
  }

  /** Burst latency runs from the actual write; paced modes from the intended send time (no coordinated omission). */
  #latencyMs(request: number, nowPerf: number, sentPerf: number): number {
    if (this.#schedule.mode === 'burst') return nowPerf - sentPerf;
    return Math.max(nowPerf - sentPerf, nowPerf - this.#barrierPerf - this.#intendedMs(request));
  }

  #preconnect(): Promise<void> {
    return new Promise((resolve) => {
      const connection = this.#open();
      const timer = setTimeout(() => {
        this.#connectTimeouts++;
        connection.socket.destroy();
        resolve();
      }, this.#plan.timeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        if (connection.connected && !connection.dead) this.#free.push(connection);
        resolve();
      };
      connection.socket.once('connect', settle);
      connection.socket.once('close', settle);
    });
  }

  #open(): Connection {
    const socket = net.connect({ host: this.#plan.host, port: this.#plan.port, noDelay: true });
    const connection: Connection = {
      socket,
      parser: null as unknown as ResponseParser,
      connected: false,
      dead: false,
      closed: false,
      pooled: true,
      retiredUntil: 0,
      request: -1,
      sentPerf: 0,
      status: 0,
      keepAlive: true,
      body: [],
      bodyBytes: 0,
      bodyTotal: 0,
      broken: null,
      parsing: false,
      releasePending: false,
      error: null,
    };
    connection.parser = new ResponseParser({
      onMessageBegin: () => {
        if (connection.request < 0) this.#stray(connection);
      },
      onHeadersComplete: (status, keepAlive) => {
        if (connection.broken !== null) return;
        if (!isValidStatus(status) || isUnaskedUpgrade(status)) {
          this.#breakOff(connection, 'invalid-http');
          return;
        }
        connection.status = status;
        connection.keepAlive = keepAlive;
      },
      onBody: (chunk) => {
        if (connection.broken !== null) return;
        connection.bodyTotal += chunk.length;
        if (connection.bodyTotal > MAX_ANSWER_BODY_BYTES) {
          this.#breakOff(connection, 'body-too-large');
          return;
        }
        const room = MAX_KEPT_BODY - connection.bodyBytes;
        if (room > 0 && !this.#accepts(connection.status)) {
          const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
          connection.body.push(kept);
          connection.bodyBytes += kept.length;
        }
      },
      onMessageComplete: () => {
        if (connection.broken !== null) return;
        // 100 Continue, 103 Early Hints...: an interim answer, the merchant's real one follows on the socket.
        if (isInterimStatus(connection.status)) {
          connection.status = 0;
          connection.body = [];
          connection.bodyBytes = 0;
          connection.bodyTotal = 0;
          return;
        }
        this.#answered(connection);
      },
    });
    this.#active++;
    this.#connectionsOpened++;
    this.#all.add(connection);
    socket.on('connect', () => {
      connection.connected = true;
    });
    socket.on('data', (chunk: Buffer) => {
      this.#bytesRead += chunk.length;
      if (connection.broken !== null || connection.closed) return;
      connection.parsing = true;
      const error = connection.parser.execute(chunk);
      connection.parsing = false;
      if (error !== null && connection.broken === null) {
        // Bytes that are not HTTP with no request in flight are a stray too: nothing asked for them.
        if (connection.request < 0) this.#stray(connection);
        else this.#breakOff(connection, 'invalid-http');
      }
      if (connection.releasePending) {
        connection.releasePending = false;
        this.#release(connection);
      }
    });
    socket.on('end', () => {
      connection.dead = true;
      // Answers without a length end with the connection; finish() delivers them.
      if (connection.request >= 0 && connection.broken === null) connection.parser.finish();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      connection.error = error;
    });
    socket.on('close', () => this.#closed(connection));
    return connection;
  }

  /** Gives up on the answer being read: the socket closes and #closed counts the request as `kind`. */
  #breakOff(connection: Connection, kind: 'invalid-http' | 'body-too-large'): void {
    connection.broken = kind;
    connection.dead = true;
    connection.socket.destroy();
  }

  /** An answer nobody asked for: the connection is closed and the stray counted, never credited to a buyer. */
  #stray(connection: Connection): void {
    if (connection.closed || connection.broken !== null) return;
    this.#strayAnswers++;
    connection.releasePending = false;
    connection.broken = 'invalid-http';
    this.#close(connection);
  }

  #acquire(): Connection | null {
    while (this.#free.length > 0) {
      const connection = this.#free.pop()!;
      if (!connection.dead && !connection.closed && connection.request < 0) return connection;
    }
    if (this.#active < this.#maxConnections && this.#active + this.#retired.size < this.#socketBudget) {
      return this.#open();
    }
    return null;
  }

  #pump(): void {
    if (this.#stopped) return;
    const requests = this.store.requests;
    const paced = this.#schedule.mode !== 'burst';
    while (this.#cursor < requests) {
      if (paced) {
        const dueInMs = this.#intendedMs(this.#cursor) - this.#now();
        if (dueInMs > 0) {
          this.#scheduleTick(dueInMs);
          return;
        }
      }
      const connection = this.#acquire();
      if (!connection) return;
      this.#send(connection, this.#cursor++);
    }
  }

  #scheduleTick(delayMs: number): void {
    if (this.#pumpTimer) return;
    this.#pumpTimer = setTimeout(() => {
      this.#pumpTimer = null;
      this.#pump();
    }, delayMs);
  }

  #requestBytes(request: number): Buffer {
    const duplicate = (this.store.arrays.flags[request]! & Flag.Duplicate) !== 0;
    return this.#builder.build(this.store.globalBuyer(request), duplicate);
  }

  #send(connection: Connection, request: number): void {
    const bytes = this.#prebuilt[request] ?? this.#requestBytes(request);
    connection.request = request;
    connection.status = 0;
    connection.body = [];
    connection.bodyBytes = 0;
    connection.bodyTotal = 0;
    this.#busy.add(connection);
    connection.socket.write(bytes);
    const now = performance.now();
    connection.sentPerf = now;
    this.store.arrays.sentAtMs[request] = now - this.#barrierPerf;
    if (Number.isNaN(this.#firstSentPerf)) this.#firstSentPerf = now;
    this.#lastSentPerf = now;
    this.#bytesWritten += bytes.length;
    this.counters[Counter.Sent]!++;
    this.counters[Counter.InFlight]!++;
  }

  #settle(request: number, outcome: OutcomeCode): void {
    this.store.arrays.outcome[request] = outcome;
    this.counters[Counter.Settled]!++;
    if (outcome === Outcome.Accepted) this.counters[Counter.Accepted]!++;
    else if (outcome === Outcome.Refused) this.counters[Counter.Refused]!++;
    else if (outcome === Outcome.Timeout) this.counters[Counter.Timeouts]!++;
    else if (outcome === Outcome.ConnectionError) this.counters[Counter.Errors]!++;
  }

  #answered(connection: Connection): void {
    const request = connection.request;
    if (request < 0 || this.#finished) return;
    const now = performance.now();
    const { arrays } = this.store;
    arrays.status[request] = connection.status;
    connection.request = -1;
    const kept = connection.body;
    connection.body = [];
    connection.bodyBytes = 0;
    connection.bodyTotal = 0;
    if (connection.retiredUntil > 0) {
      const accepted = this.#accepts(connection.status);
      arrays.flags[request]! |= Flag.LateAnswer | (accepted ? Flag.Stranded : 0);
      if (accepted) this.counters[Counter.Stranded]!++;
      this.#retired.delete(connection);
      this.#close(connection);
      this.#checkDone();
      return;
    }
    this.#busy.delete(connection);
    this.counters[Counter.InFlight]!--;
    const elapsed = now - connection.sentPerf;
    arrays.latencyMs[request] = this.#latencyMs(request, now, connection.sentPerf);
    if (elapsed >= this.#plan.timeoutMs) {
      // The answer beat the sweep but not the gateway's timer: the gateway had already failed the payment.
      const accepted = this.#accepts(connection.status);
      arrays.flags[request]! |= Flag.LateAnswer | (accepted ? Flag.Stranded : 0);
      if (accepted) this.counters[Counter.Stranded]!++;
      this.#settle(request, Outcome.Timeout);
      this.#onAnswer?.(request, null, undefined);
    } else if (this.#accepts(connection.status)) {
      this.#settle(request, Outcome.Accepted);
      this.#onAnswer?.(request, connection.status, undefined);
    } else {
      const body = Buffer.concat(kept).toString('utf8');
      arrays.detail[request] =
        this.#plan.completion === null
          ? this.store.reasonFor(this.#plan.dialect, connection.status, body)
          : this.store.reasonFor(this.#plan.dialect, connection.status, body, completionRefusalDetail);
      this.#settle(request, Outcome.Refused);
      this.#onAnswer?.(request, connection.status, body);
    }
    if (!connection.keepAlive) {
      connection.dead = true;
      connection.socket.end();
    }
    // The rest of the chunk may hold a stray answer: no request goes on this connection before it is parsed.
    if (connection.parsing) connection.releasePending = true;
    else this.#release(connection);
  }

  #release(connection: Connection): void {
    if (!connection.dead && !connection.closed) this.#free.push(connection);
    this.#pump();
    this.#checkDone();
  }

  #closed(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.dead = true;
    connection.parser.close();
    this.#all.delete(connection);
    if (this.#finished) return;
    if (!connection.pooled) {
      this.#retired.delete(connection);
      this.#checkDone();
      return;
    }
    connection.pooled = false;
    this.#active--;
    const request = connection.request;
    const refused = connection.error?.code === 'ECONNREFUSED';
    if (request >= 0) {
      connection.request = -1;
      this.#busy.delete(connection);
      this.counters[Counter.InFlight]!--;
      const { arrays } = this.store;
      const code = connection.error?.code ?? '';
      if (LOCAL_RESOURCE_ERRORS.has(code)) {
        this.#localErrors++;
        this.#localErrorExample ??= `${code}: ${connection.error?.message ?? ''}`;
      }
      const kind = refused
        ? 'refused'
        : connection.broken !== null
          ? connection.broken
          : LOCAL_RESOURCE_ERRORS.has(code)
            ? 'other'
            : 'reset';
      arrays.detail[request] = noAnswerKindCode(kind);
      arrays.latencyMs[request] = this.#latencyMs(request, performance.now(), connection.sentPerf);
      this.#settle(request, Outcome.ConnectionError);
      this.#onAnswer?.(request, null, undefined);
    }
    if (refused) this.#targetDown();
    this.#pump();
    this.#checkDone();
  }

  /** Nothing listens any more: the remaining buyers are counted as refused connections instead of being sent. */
  #targetDown(): void {
    if (this.#targetDownAtMs !== null || this.#stopped) return;
    // Before the barrier (connecting, nothing sent yet) there is no run time to speak of: 0 means from the start.
    this.#targetDownAtMs = this.#barrierPerf === 0 ? 0 : Math.max(0, this.#now());
    this.#markUnsent(Outcome.ConnectionError, Flag.TargetDown);
  }

  #markUnsent(outcome: OutcomeCode, flag: number): void {
    const { arrays } = this.store;
    const refusedCode = noAnswerKindCode('refused');
    for (let request = this.#cursor; request < this.store.requests; request++) {
      arrays.flags[request]! |= flag;
      this.#settle(request, outcome);
      if (outcome === Outcome.ConnectionError) {
        arrays.detail[request] = refusedCode;
        // The gateway could not reach the merchant either: the payment fails as unanswered.
        this.#onAnswer?.(request, null, undefined);
      }
    }
    this.#cursor = this.store.requests;
  }

  #sweep(): void {
    const now = performance.now();
    const timeoutMs = this.#plan.timeoutMs;
    for (const connection of this.#busy) {
      if (now - connection.sentPerf >= timeoutMs) this.#timedOut(connection, now);
    }
    for (const connection of this.#retired) {
      if (now >= connection.retiredUntil) {
        this.#retired.delete(connection);
        this.#close(connection);
      }
    }
    this.#checkDone();
  }

  #timedOut(connection: Connection, now: number): void {
    const request = connection.request;
    this.#busy.delete(connection);
    this.counters[Counter.InFlight]!--;
    this.store.arrays.latencyMs[request] = this.#latencyMs(request, now, connection.sentPerf);
    this.#settle(request, Outcome.Timeout);
    this.#onAnswer?.(request, null, undefined);
    this.#active--;
    connection.pooled = false;
    connection.dead = true;
    const waitMs = this.#plan.strandedWaitMs;
    // Watching for the late answer must not cost a replacement socket we have no descriptor for.
    if (waitMs > 0 && !this.#stopped && this.#active + this.#retired.size + 2 <= this.#socketBudget) {
      connection.retiredUntil = connection.sentPerf + this.#plan.timeoutMs + waitMs;
      this.#retired.add(connection);
    } else {
      if (waitMs > 0) this.#strandedUnobserved++;
      connection.request = -1;
      this.#close(connection);
    }
    this.#pump();
  }

  #close(connection: Connection): void {
    connection.dead = true;
    connection.socket.destroy();
  }

  #checkDone(): void {
    if (this.#finished || !this.#resolveDone) return;
    if (this.counters[Counter.Settled]! >= this.store.requests && this.#retired.size === 0) this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const endedMs = this.#now();
    if (this.#pumpTimer) clearTimeout(this.#pumpTimer);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    if (this.#drainTimer) clearTimeout(this.#drainTimer);
    for (const connection of this.#all) connection.socket.destroy();
    this.#all.clear();
    const since = (perf: number): number | null => (Number.isNaN(perf) ? null : perf - this.#barrierPerf);
    this.#resolveDone?.({
      barrierEpochMs: this.#barrierEpochMs,
      firstSentMs: since(this.#firstSentPerf),
      lastSentMs: since(this.#lastSentPerf),
      waveSpreadMs: this.#waveSpreadMs,
      waveSize: this.#waveSize,
      endedMs,
      targetDownAtMs: this.#targetDownAtMs,
      strandedUnobserved: this.#strandedUnobserved,
      localErrors: this.#localErrors,
      localErrorExample: this.#localErrorExample,
      connectionsOpened: this.#connectionsOpened,
      bytesWritten: this.#bytesWritten,
      bytesRead: this.#bytesRead,
      connectMs: this.#connectMs,
      connectTimeouts: this.#connectTimeouts,
      strayAnswers: this.#strayAnswers,
      interrupted: this.#interrupted,
      loop: this.#loop.stop(),
    });
  }
}
