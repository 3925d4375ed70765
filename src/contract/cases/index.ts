import type { ContractCase } from '../context.js';
import { survivesBadInput } from './bad-input.js';
import { firstComeBurst, latencyUnderLoad } from './load.js';
import { confirmsKnownOrder, idempotentRepeat, refusesSoldOut, refusesUnknownOrder, refusesWrongAmount } from './orders.js';
import { releasesStockOnFailure } from './release.js';
import { rejectsBadSignatures } from './signatures.js';
import { refusesForgedConfirm, refusesTamperedAmount, releasesStockOnDecline, webhookReplay } from './gateway.js';

/** Every case, in id order: the order they run in and are listed in. */
export const CONTRACT_CASES: readonly ContractCase[] = [
  confirmsKnownOrder,
  refusesSoldOut,
  refusesUnknownOrder,
  refusesWrongAmount,
  idempotentRepeat,
  survivesBadInput,
  rejectsBadSignatures,
  latencyUnderLoad,
  firstComeBurst,
  releasesStockOnFailure,
  refusesForgedConfirm,
  refusesTamperedAmount,
  releasesStockOnDecline,
  webhookReplay,
];
