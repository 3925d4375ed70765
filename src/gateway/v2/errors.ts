import { GatewayApiError } from '../errors.js';

/**
 * The V2 error types the simulated API answers with, under the HTTP status the OpenAPI file gives each
 * (`x-portone-status-code`). The SDK picks its error class by operation and hands `type` to the merchant's
 * code, so a type string must be exact; test/gateway-v2.test.ts checks every one against the file.
 */
export const V2_ERROR_STATUS = {
  INVALID_REQUEST: 400,
  INVALID_PAYMENT_TOKEN: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PAYMENT_NOT_FOUND: 404,
  ALREADY_PAID: 409,
  PAYMENT_NOT_PAID: 409,
  PAYMENT_ALREADY_CANCELLED: 409,
  CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT: 409,
  CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN: 409,
  INFORMATION_MISMATCH: 409,
  PG_PROVIDER: 502,
} as const;

export type V2ErrorType = keyof typeof V2_ERROR_STATUS;

/** A V2 refusal: answered as the bare `{type, message, ...details}` object the V2 API uses. */
export class PortOneApiError extends Error {
  override name = 'PortOneApiError';
  readonly httpStatus: number;

  constructor(
    readonly type: V2ErrorType,
    message: string,
    /** Fields some types add, e.g. PG_PROVIDER's pgCode and pgMessage. */
    readonly details: Record<string, string> = {},
    httpStatus?: number,
  ) {
    super(message);
    this.httpStatus = httpStatus ?? V2_ERROR_STATUS[type];
  }

  body(): Record<string, string> {
    return { type: this.type, message: this.message, ...this.details };
  }
}

/**
 * The V2 answer for a refusal raised by code shared with V1 (the field readers, the body reader): its HTTP
 * status is kept, the type is the V2 one for it.
 */
export function asPortOneError(error: GatewayApiError): PortOneApiError {
  const type: V2ErrorType =
    error.httpStatus === 401 ? 'UNAUTHORIZED' : error.httpStatus === 404 ? 'PAYMENT_NOT_FOUND' : 'INVALID_REQUEST';
  return new PortOneApiError(type, error.message, {}, error.httpStatus >= 400 ? error.httpStatus : 400);
}
