import type { CodeTiming } from '$lib/types/code-step';

/** The names a code step's forms carry besides their own fields (see `CodeStep.svelte`). */
export const TIMING_FIELDS = ['expiresAt', 'resendAfter'];

/** R6: a code just sent, as the code step shows it. */
export function sentTiming(sent: { expiresAt: Date; resendAfter: Date }, now: Date): CodeTiming {
	return {
		expiresAt: sent.expiresAt.toISOString(),
		resendAfter: sent.resendAfter.toISOString(),
		serverNow: now.toISOString()
	};
}

/**
 * A failed confirm or an early resend keeps showing the live code's times, which the page posted
 * back. They only tell the person when to act: expiry and cooldown are decided from the stored
 * code, so a forged value misleads no one but its sender. Anything not an instant is dropped.
 */
export function echoedTiming(
	values: Record<string, string | undefined>,
	now: Date
): CodeTiming | undefined {
	const instant = (v: string | undefined) =>
		v && v.length <= 30 && Number.isFinite(Date.parse(v)) ? new Date(v).toISOString() : undefined;
	const expiresAt = instant(values.expiresAt);
	const resendAfter = instant(values.resendAfter);
	return expiresAt && resendAfter
		? { expiresAt, resendAfter, serverNow: now.toISOString() }
		: undefined;
}
