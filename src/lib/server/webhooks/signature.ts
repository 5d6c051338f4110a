import { createHmac } from 'node:crypto';

/**
 * R27, Standard Webhooks: `v1,` + base64 HMAC-SHA256 over `id.timestamp.body` with the secret's
 * bytes (the base64 after `whsec_`); `timestamp` in Unix seconds, as the header carries it.
 */
export function signWebhook(secret: Buffer, id: string, timestamp: number, body: string): string {
	const mac = createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('base64');
	return `v1,${mac}`;
}
