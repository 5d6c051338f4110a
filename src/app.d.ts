import type { AppContext } from '$lib/server/app';

declare global {
	namespace App {
		interface Error {
			message: string;
			code?: string;
		}
		interface Locals {
			app: AppContext;
			/** The client's address after the TRUST_PROXY policy; never logged whole with an identifier. */
			clientAddress: string;
			/** R9: ISO country of the client address, or null when unknown (private, loopback, …). */
			ipCountry: string | null;
		}
	}
}

export {};
