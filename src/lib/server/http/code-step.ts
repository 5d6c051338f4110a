import type { CodeTiming } from '$lib/types/code-step';
import type { Ctx } from '../core/context';
import { readForm } from './forms';

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

/**
 * The head of a code step's confirm action (R6): the identifier, country, code and `more` fields
 * as posted, and the echo that keeps the code step (with the live code's times) after a refusal.
 */
export async function readCodeStep(
	event: { request: Request; locals: { app: Ctx } },
	more: string[] = []
) {
	const values = await readForm(event.request, [
		'identifier',
		'country',
		'code',
		...more,
		...TIMING_FIELDS
	]);
	const echo = {
		step: 'code' as const,
		identifier: values.identifier ?? '',
		country: values.country,
		timing: echoedTiming(values, event.locals.app.clock.now())
	};
	return { values, echo };
}
