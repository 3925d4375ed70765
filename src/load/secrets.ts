import { SecretMask } from '../util/secrets.js';
import type { BurstPlan } from './options.js';

/** Everything secret a burst sends (URL credentials, sensitive headers, the webhook secret), to mask in what it shows and writes. */
export function planSecrets(plan: BurstPlan): SecretMask {
  const mask = new SecretMask().addHeaders(plan.headers).addHeaders(plan.hookHeaders);
  for (const url of [plan.url, plan.orderUrl, plan.resetUrl, plan.stockUrl, plan.gateway?.url, plan.gateway?.noticeUrl]) mask.addUrl(url);
  if (plan.secretKey !== null) mask.add(Buffer.from(plan.secretKey).toString('base64'));
  return mask;
}
