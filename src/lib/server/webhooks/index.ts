/**
 * webhooks/ — R27, signed outbound webhooks: the audited events that are webhook events
 * (`events.ts`), their deliveries stored in the event's own transaction (`record.ts`, the
 * context's event sink), the worker that signs and sends them in order per account with retries
 * for 24 hours (`worker.ts`, `signature.ts`), and the console's list and resend (`console.ts`).
 */

export { listDeliveries, resendDelivery } from './console';
export { webhookEvents } from './record';
export { createWebhookWorker } from './worker';
