export { FLAWS, FLAW_DESCRIPTIONS, CONFIRM_PROCESS_FLAWS, MANUAL_ONLY_FLAWS, parseFlaw, type Flaw } from './flaws.js';
export {
  startMerchant,
  MERCHANT_BODY_LIMIT,
  DEFAULT_MAX_ORDERS,
  type MerchantOptions,
  type RunningMerchant,
  type MerchantEvents,
  type MerchantConfirmEvent,
} from './server.js';
export { generateAdminToken, adminHeaders } from './admin.js';
export type { OrderPage, OrderView, OrderState } from './shop.js';
