// autocannon ships no type declarations; this covers the part of its programmatic API the bench uses.
declare module 'autocannon' {
  interface AutocannonOptions {
    url: string;
    connections?: number;
    /** Requests in total; the run ends once all are answered. */
    amount?: number;
    /** Seconds, when no amount is given. */
    duration?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** Milliseconds between throughput samples; the run can only end on a sample tick. */
    sampleInt?: number;
    timeout?: number;
  }

  interface AutocannonResult {
    start: Date;
    finish: Date;
    /** Seconds, rounded to 10 ms. */
    duration: number;
    requests: { total: number; average: number; sent: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }

  interface AutocannonRun extends PromiseLike<AutocannonResult> {
    stop(): void;
  }

  function autocannon(options: AutocannonOptions): AutocannonRun;
  export default autocannon;
}
