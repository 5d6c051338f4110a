import type { Cookies } from '@sveltejs/kit';
import type { Ctx } from '../core/context';
import { readForm } from './forms';
import { isSecure } from './secure';

/**
 * R6: a code step is resumable, and shows the person what they typed. What this
 * browser typed into a code flow (registration, forgot password, contact change) lives only in
 * this HttpOnly cookie, sealed with the key ring (AES-256-GCM, bound to the flow and, for a
 * contact change, to the account), never in a URL and never in an answer to another browser.
 * It says nothing about the code: a plain GET shows the step again only while the stored code
 * is live (unused, not locked, not expired), and only where the domain's own binding agrees (the
 * registration token, the account). Reading it never sends anything.
 */
export type CodeFlow = 'register' | 'forgot' | 'contact';

export interface Typed {
	/** What the person typed, as they typed it (trimmed). */
	identifier: string;
	country: string;
	/** A code was sent for it from this browser; false once they chose to change it. */
	pending: boolean;
}

const PATHS: Record<CodeFlow, string> = {
	register: '/register',
	forgot: '/forgot-password',
	contact: '/account/contact'
};
// Longer than one code's life (R6: 5 minutes) plus a few resends, as the registration cookie.
const MAX_AGE_MS = 30 * 60_000;
const MAX_LENGTH = 200;

type Event = { cookies: Cookies; url: URL; locals: { app: Ctx } };
const name = (flow: CodeFlow) => `code_step_${flow}`;
const context = (flow: CodeFlow, accountId: string | null) => `${flow}|${accountId ?? ''}`;
const options = (flow: CodeFlow, url: URL) => ({
	path: PATHS[flow],
	httpOnly: true,
	sameSite: 'lax' as const,
	secure: isSecure({ url })
});

/** Keeps what was typed (sealed) for this browser's next visit of the flow's page. */
export function rememberTyped(
	event: Event,
	flow: CodeFlow,
	typed: Typed,
	accountId: string | null = null
): void {
	const { app } = event.locals;
	const body = JSON.stringify({
		i: typed.identifier.trim().slice(0, MAX_LENGTH),
		c: typed.country.slice(0, 8),
		p: typed.pending ? 1 : 0,
		t: app.clock.now().getTime()
	});
	event.cookies.set(name(flow), app.keys.seal('code-step', context(flow, accountId), body), {
		...options(flow, event.url),
		maxAge: MAX_AGE_MS / 1000
	});
}

/** What this browser typed into the flow, if its cookie opens and is not older than 30 minutes. */
export function readTyped(
	event: Event,
	flow: CodeFlow,
	accountId: string | null = null
): Typed | null {
	const sealed = event.cookies.get(name(flow));
	if (!sealed || sealed.length > 1024) return null;
	const { app } = event.locals;
	try {
		const v = JSON.parse(
			app.keys.open('code-step', context(flow, accountId), sealed).toString('utf8')
		) as { i?: unknown; c?: unknown; p?: unknown; t?: unknown };
		const age = app.clock.now().getTime() - Number(v.t);
		if (typeof v.i !== 'string' || typeof v.c !== 'string' || !(age >= 0 && age < MAX_AGE_MS))
			return null;
		return { identifier: v.i, country: v.c, pending: v.p === 1 };
	} catch {
		return null;
	}
}

/** The flow is over (the account exists, the password or contact changed). */
export function forgetTyped(event: Event, flow: CodeFlow): void {
	event.cookies.delete(name(flow), options(flow, event.url));
}

/**
 * A flow page's plain GET (R6): what this browser typed, to fill the first step, and its
 * live code step when `resume` finds one. Not stored by any cache: the answer is this browser's.
 */
export async function resumeOnGet<S>(
	event: Event & { setHeaders: (headers: Record<string, string>) => void },
	flow: CodeFlow,
	resume: (typed: Typed) => Promise<S | undefined>,
	accountId: string | null = null
): Promise<{ typed?: { identifier: string; country: string }; resumed?: S }> {
	event.setHeaders({ 'cache-control': 'no-store' });
	const typed = readTyped(event, flow, accountId);
	if (!typed) return {};
	const shown = { identifier: typed.identifier, country: typed.country };
	return { typed: shown, resumed: typed.pending ? await resume(typed) : undefined };
}

/**
 * The check report's POST (R6, R14): this browser's code step for what was checked, when
 * `resume` finds one (it never sends a code); what was checked is kept either way.
 */
export async function resumePosted<S>(
	event: Event & { request: Request },
	flow: CodeFlow,
	resume: (typed: Typed) => Promise<S | undefined>
): Promise<{ typed: { identifier: string; country: string }; step?: S; continued: boolean }> {
	const values = await readForm(event.request, ['identifier', 'country', 'continue']);
	const typed = {
		identifier: (values.identifier ?? '').slice(0, MAX_LENGTH),
		country: (values.country ?? '').slice(0, 2)
	};
	const step = await resume({ ...typed, pending: true });
	rememberTyped(event, flow, { ...typed, pending: step !== undefined });
	return { typed, step, continued: values.continue === '1' };
}

/** "Wrong address? Change it" (R6): what the step's form carried, no longer resumable. */
export async function changeTyped(
	event: Event & { request: Request },
	flow: CodeFlow
): Promise<{ identifier: string; country: string }> {
	const values = await readForm(event.request, ['identifier', 'country']);
	const typed = { identifier: values.identifier ?? '', country: values.country ?? '' };
	rememberTyped(event, flow, { ...typed, pending: false });
	return typed;
}
