import { createTransport } from 'nodemailer';
import type { Config } from '../core/config';

/** What a transport needs to deliver one outbox row. */
interface OutboundMessage {
	/** The outbox id: the gateway's idempotency key and the email's Message-ID. */
	id: string;
	channel: 'email' | 'sms';
	recipient: string;
	subject: string | null;
	body: string;
	locale: string;
	purpose: string;
}

/** Delivers one message or throws; the error's message must never contain the body or the code. */
export interface Transport {
	send(message: OutboundMessage): Promise<void>;
	/** The outbox row is the delivered message (the dev outbox): its text must stay. */
	readonly keepsText?: boolean;
}

export interface Transports {
	email: Transport | null;
	sms: Transport | null;
	/** True when at least one channel only records to the dev outbox. */
	devOutbox: boolean;
}

export interface TransportOptions {
	fetch?: typeof fetch;
	/** How long the SMS gateway may take to answer (default 10 s). */
	smsTimeoutMs?: number;
}

/** A delivery failure whose message is safe to store and log (no body, no code, no recipient). */
class DeliveryError extends Error {
	override name = 'DeliveryError';
}

const SMS_TIMEOUT_MS = 10_000;

/**
 * R7: the dev outbox (messages only stored, read at /dev/outbox and the test hook) is the default
 * outside production, and impossible in production unless the test hooks are deliberately on.
 */
export function devOutboxAllowed(config: Config): boolean {
	return !config.production || config.testHooks;
}

export function createTransports(config: Config, options: TransportOptions = {}): Transports {
	const fallback = devOutboxAllowed(config) ? devOutboxTransport : null;
	const email = config.smtpUrl ? createEmailTransport(config.smtpUrl, config.smtpFrom) : fallback;
	const gateway = config.smsGateway;
	const sms =
		gateway?.url && gateway.token
			? createSmsTransport(gateway.url, gateway.token, options)
			: fallback;
	return { email, sms, devOutbox: email === devOutboxTransport || sms === devOutboxTransport };
}

/** The row itself is the delivered message; reading it is the developer's inbox. */
const devOutboxTransport: Transport = {
	send: async () => {},
	keepsText: true
};

function createEmailTransport(url: string, from: string): Transport {
	const mailer = createTransport({
		url,
		// The worker retries; a hung SMTP server must not hold a claimed row past its lock.
		connectionTimeout: 10_000,
		greetingTimeout: 10_000,
		socketTimeout: 30_000
	});
	return {
		async send(message) {
			if (!message.subject) throw new DeliveryError('email needs a subject');
			try {
				await mailer.sendMail({
					from,
					to: message.recipient,
					subject: message.subject,
					text: message.body,
					messageId: `<${message.id}@outbox.account-security-check>`,
					// Message text is ours, but never let a field turn into a file or URL read.
					disableFileAccess: true,
					disableUrlAccess: true
				});
			} catch (error) {
				throw new DeliveryError(`smtp: ${describeSmtpError(error)}`);
			}
		}
	};
}

function describeSmtpError(error: unknown): string {
	if (typeof error !== 'object' || error === null) return 'failed';
	const e = error as { code?: unknown; responseCode?: unknown; command?: unknown };
	const parts = [e.code, e.command, e.responseCode].filter(
		(p) => typeof p === 'string' || typeof p === 'number'
	);
	return parts.length > 0 ? parts.join(' ') : 'failed';
}

function createSmsTransport(url: string, token: string, options: TransportOptions): Transport {
	// Looked up per call so a fetch patched later (MSW in tests, instrumentation) is honoured.
	const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
	const timeoutMs = options.smsTimeoutMs ?? SMS_TIMEOUT_MS;
	return {
		async send(message) {
			let response: Response;
			try {
				response = await doFetch(url, {
					method: 'POST',
					headers: {
						authorization: `Bearer ${token}`,
						'content-type': 'application/json',
						// A retry after a lost answer must not text the person twice.
						'idempotency-key': message.id
					},
					body: JSON.stringify({
						to: message.recipient,
						text: message.body,
						reference: message.id
					}),
					signal: AbortSignal.timeout(timeoutMs)
				});
			} catch (error) {
				if (error instanceof Error && error.name === 'TimeoutError') {
					throw new DeliveryError(`sms gateway: no answer within ${timeoutMs} ms`);
				}
				throw new DeliveryError('sms gateway: unreachable');
			}
			// The answer is not needed: cancelling frees the connection. Not awaited, because a
			// stream that never settles its cancel (some proxies, MSW) must not hang the worker.
			void response.body?.cancel().catch(() => {});
			if (!response.ok) throw new DeliveryError(`sms gateway: HTTP ${response.status}`);
		}
	};
}
