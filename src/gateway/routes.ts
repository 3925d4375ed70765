import type { IncomingHttpHeaders } from 'node:http';
import type { RequestFields } from './fields.js';

/**
 * Which API a route belongs to. It decides the envelope of every answer and refusal, and the credential a
 * caller must present: V1 an access token from POST /users/getToken, V2 `Authorization: PortOne <API secret>`.
 * The simulation's own /sim routes answer in the V1 envelope and need no credential.
 */
export type RouteApi = 'v1' | 'v2' | 'sim';

export interface RouteInput {
  /** The path's {placeholders}, percent-decoded, in order. */
  params: string[];
  query: URLSearchParams;
  /** The body as JSON or form fields; empty for GET. */
  fields: RequestFields;
  headers: IncomingHttpHeaders;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** As shown to users, with {placeholders}; a placeholder matches one path segment. */
  path: string;
  summary: string;
  /** false for the calls that hand out credentials and for the /sim routes that stand for the buyer. */
  auth: boolean;
  /** Default MAX_BODY_BYTES (server.ts); a batch route may take more. */
  maxBodyBytes?: number;
  handle(input: RouteInput): unknown;
}

/** A route as the banner and the library list it. */
export interface GatewayRoute {
  api: RouteApi;
  method: string;
  path: string;
  summary: string;
}

/**
 * A success answered under another HTTP status than 200: V1 GET /payments answers 207 when only some of the
 * payments asked for were found, still with code 0 and the ones that were.
 */
export class StatusAnswer {
  constructor(
    readonly httpStatus: number,
    readonly response: unknown,
  ) {}
}
