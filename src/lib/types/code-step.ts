/** R6: what a code step shows of the live code: ISO instants, and the server's now when it answered. */
export interface CodeTiming {
	expiresAt: string;
	resendAfter: string;
	serverNow: string;
}
