export { FLAWS, FLAW_DESCRIPTIONS, parseFlaw, type Flaw } from './flaws.js';
export {
  startMerchant,
  MERCHANT_BODY_LIMIT,
  type MerchantOptions,
  type RunningMerchant,
  type MerchantEvents,
  type MerchantConfirmEvent,
} from './server.js';
