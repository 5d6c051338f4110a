import { canonicalAddress } from './address-key';

/**
 * API (docs/api.md): X-Forwarded-For is honoured only when the operator says a proxy is in front
 * (TRUST_PROXY=1), and then only its right-most entry: the one our proxy appended, which a
 * client cannot forge. Otherwise the socket address (adapter-node's ADDRESS_HEADER/XFF_DEPTH
 * are already applied by `getClientAddress`).
 */
export function resolveClientAddress(
	headers: Headers,
	socketAddress: () => string,
	trustProxy: boolean
): string {
	if (trustProxy) {
		const forwarded = headers.get('x-forwarded-for');
		const last = forwarded?.split(',').pop()?.trim();
		const ip = last ? canonicalAddress(last) : null;
		if (ip) return ip;
	}
	try {
		return canonicalAddress(socketAddress()) ?? 'unknown';
	} catch {
		return 'unknown';
	}
}
