import type { Ctx } from '$lib/server/core/context';
import type { Account } from '$lib/server/db/schema';
import type { Session } from '$lib/server/accounts';
import type { AgentSessionValidation } from '$lib/server/support';

declare global {
	namespace App {
		interface Error {
			message: string;
			code?: string;
			/** A server error's request id (`x-request-id`), shown on the error page for support. */
			requestId?: string;
		}
		interface Locals {
			/** Echoed as `x-request-id` and in every log line about the request. */
			requestId: string;
			app: Ctx;
			/** The client's address after the TRUST_PROXY policy; never logged whole with an identifier. */
			clientAddress: string;
			/** R9: ISO country of the client address, or null when unknown (private, loopback, …). */
			ipCountry: string | null;
			/** Issue 26: the IANA zone this request's times are shown in (format/time-zones.ts). */
			timeZone: string;
			/** R10: SHA-256 of this browser's device cookie. */
			deviceId: string;
			session: Session | null;
			account: Account | null;
			/** Set by handleError when the database was unreachable: the answer becomes 503. */
			unavailable?: boolean;
			/** R22: the signed-in support agent or admin (only under /support). */
			agent: AgentSessionValidation['agent'];
			agentSession: AgentSessionValidation['session'];
		}
	}
}

export {};
