/** The `iamport` npm client (0.3.x) ships no types: what the doc merchant uses of it. */
declare module 'iamport' {
  interface IamportOptions {
    impKey?: string;
    impSecret?: string;
  }
  interface IamportPayments {
    /** Resolves to the payment (the envelope's `response`); rejects with code HTTP_404 for an unknown imp_uid. */
    getByImpUid(params: { imp_uid: string }): Promise<Record<string, unknown>>;
  }
  class Iamport {
    static DEFAULT_HOST: string;
    constructor(options?: IamportOptions);
    payment: IamportPayments;
  }
  export = Iamport;
}
