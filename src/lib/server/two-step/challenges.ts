import type { Ctx } from '../core/context';
import { hashToken, sameSecret } from '../core/tokens';
import { hit } from '../platform/limits';

/** What the browser sent (the route's schema checked its shape; the library verifies the rest). */
export interface BrowserCredential {
	id: string;
	response: { clientDataJSON: string };
}

/** A WebAuthn ceremony must finish within this long of its options. */
const CHALLENGE_MS = 5 * 60_000;

type Binding =
	| { kind: 'registration'; accountId: string }
	| { kind: 'authentication'; accountId: string | null; pendingId: string | null };

/**
 * Remembers a challenge the server issued (only its hash), bound to who asked for it. A pending
 * sign-in keeps one: its earlier challenges go, so asking again and again stores no more rows.
 */
export async function storeChallenge(ctx: Ctx, challenge: string, binding: Binding): Promise<void> {
	if (binding.kind === 'authentication' && binding.pendingId !== null)
		await ctx.db
			.deleteFrom('webauthn_challenges')
			.where('pending_id', '=', binding.pendingId)
			.execute();
	await ctx.db
		.insertInto('webauthn_challenges')
		.values({
			id: hashToken(challenge),
			kind: binding.kind,
			account_id: binding.accountId,
			pending_id: binding.kind === 'authentication' ? binding.pendingId : null,
			expires_at: ctx.clock.now().getTime() + CHALLENGE_MS
		})
		.execute();
}

/** The challenge the browser signed, read from its client data (verified again by the library). */
export function signedChallenge(clientDataJSON: string): string | null {
	try {
		const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
		const challenge = (data as { challenge?: unknown }).challenge;
		return typeof challenge === 'string' ? challenge : null;
	} catch {
		return null;
	}
}

/**
 * Takes the challenge back, once: the delete is the claim, so a replayed or raced response finds
 * nothing. It must be one this server issued, unexpired, for the same binding.
 */
export async function consumeChallenge(
	ctx: Ctx,
	challenge: string | null,
	binding: Binding
): Promise<boolean> {
	if (!challenge) return false;
	const deleted = await ctx.db
		.deleteFrom('webauthn_challenges')
		.where('id', '=', hashToken(challenge))
		.where('kind', '=', binding.kind)
		.where('expires_at', '>', ctx.clock.now().getTime())
		.where((eb) =>
			binding.accountId === null
				? eb('account_id', 'is', null)
				: eb('account_id', '=', binding.accountId)
		)
		.where((eb) =>
			binding.kind === 'authentication' && binding.pendingId !== null
				? eb('pending_id', '=', binding.pendingId)
				: eb('pending_id', 'is', null)
		)
		.executeTakeFirst();
	return deleted.numDeletedRows > 0n;
}

// --- The anonymous (first-factor) challenge: kept by the browser, not in a table -------------

const BROWSER_PURPOSE = 'passkey-sign-in-challenge';
const BROWSER_CONTEXT = 'first-factor';

/**
 * A first-factor passkey sign-in's challenge, sealed for the browser that asked (an HttpOnly
 * cookie): anonymous requests write no row. Sealed with the key ring, so only this server makes
 * one; it carries its expiry.
 */
export function sealBrowserChallenge(
	ctx: Ctx,
	challenge: string
): { sealed: string; expiresAt: Date } {
	const expiresAt = ctx.clock.now().getTime() + CHALLENGE_MS;
	return {
		sealed: ctx.keys.seal(
			BROWSER_PURPOSE,
			BROWSER_CONTEXT,
			JSON.stringify({ challenge, expiresAt })
		),
		expiresAt: new Date(expiresAt)
	};
}

/**
 * Whether the challenge the browser signed is the one its sealed cookie holds, unexpired: the
 * expiry (ms) when it is, else null. Single use is the caller's `spendBrowserChallenge`.
 */
export function openBrowserChallenge(
	ctx: Ctx,
	sealed: string | null,
	challenge: string | null
): number | null {
	if (!sealed || !challenge) return null;
	let held: unknown;
	try {
		held = JSON.parse(ctx.keys.open(BROWSER_PURPOSE, BROWSER_CONTEXT, sealed).toString('utf8'));
	} catch {
		return null;
	}
	const { challenge: issued, expiresAt } = (held ?? {}) as {
		challenge?: unknown;
		expiresAt?: unknown;
	};
	if (typeof issued !== 'string' || typeof expiresAt !== 'number') return null;
	if (expiresAt <= ctx.clock.now().getTime()) return null;
	return sameSecret(issued, challenge) ? expiresAt : null;
}

/**
 * Marks a sealed challenge used, once: the first caller gets true, every replay (or race) of it
 * until its expiry false. Called only after the assertion's signature verified, so only real
 * sign-ins write (an atomic hit in the shared limits store, gone when the challenge expires):
 * this holds even for a passkey whose signature counter stays 0.
 */
export async function spendBrowserChallenge(
	ctx: Ctx,
	challenge: string,
	expiresAt: number
): Promise<boolean> {
	const remaining = Math.max(1, expiresAt - ctx.clock.now().getTime());
	const used = await hit(ctx, `passkey-challenge-used:${hashToken(challenge)}`, remaining);
	return used.count === 1;
}
