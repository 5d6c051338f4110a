import type { Ctx } from '../core/context';
import { hashToken } from '../core/tokens';

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

/** Remembers a challenge the server issued (only its hash), bound to who asked for it. */
export async function storeChallenge(ctx: Ctx, challenge: string, binding: Binding): Promise<void> {
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
