/**
 * A refusal the gateway answers with, as `{code, message, response: null}` under an HTTP status. The REST API
 * puts business refusals (cancelling a cancelled payment, a checksum mismatch) under HTTP 200 with a non-zero
 * code, so merchants that only look at the HTTP status get caught here as they would against the real one.
 */
export class GatewayApiError extends Error {
  override name = 'GatewayApiError';

  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The envelope's code for a request the API could not serve: no valid token, a parameter it cannot take, a
 * payment it does not have. iamport answers those with code -1 under the HTTP status (`{"code": -1,
 * "message": "존재하지 않는 결제정보입니다.", "response": null}` with a 404), and its client libraries report it.
 */
export const INVALID_CODE = -1;
/** The envelope's code for a business refusal: the request was valid, the gateway would not do it. */
export const REFUSED_CODE = 1;

export function badRequest(message: string): GatewayApiError {
  return new GatewayApiError(400, INVALID_CODE, message);
}

export function notFound(message: string): GatewayApiError {
  return new GatewayApiError(404, INVALID_CODE, message);
}

export function unauthorized(message: string): GatewayApiError {
  return new GatewayApiError(401, INVALID_CODE, message);
}

/** A request the gateway understood and turned down: HTTP 200, non-zero code, like the real REST API. */
export function businessRefusal(message: string): GatewayApiError {
  return new GatewayApiError(200, REFUSED_CODE, message);
}

/** The simulation's own control route refuses a payment the way IMP.request_pay fails: nothing is charged. */
export function conflict(message: string): GatewayApiError {
  return new GatewayApiError(409, REFUSED_CODE, message);
}
