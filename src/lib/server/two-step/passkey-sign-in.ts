import type {
	AuthenticationResponseJSON,
	AuthenticatorTransport,
	PublicKeyCredentialRequestOptionsJSON
} from '@simplewebauthn/server';
import { webauthn } from './webauthn';
import type { Ctx } from '../core/context';
import { auditSignedIn } from '../accounts';
import type { Account } from '../db/schema';
import type { Failure } from '../core/failures';
import type { RequestMeta } from '../core/request-meta';
import {
	consumeChallenge,
	signedChallenge,
	storeChallenge,
	type BrowserCredential
} from './challenges';
import { passkeyInvalid, relyingParty } from './passkeys';
import { readPendingSignIn } from './pending';
import { completeSignIn, pendingAccount } from './second-factor';

/**
 * Request options. With a pending sign-in (the password was right) the passkey is the second
 * factor and only that account's passkeys are allowed; without one, the browser offers any
 * discoverable passkey of this site (conditional UI on /login) and it is the first factor too.
 */
export async function passkeySignInOptions(
	ctx: Ctx,
	input: { pendingToken: string | null }
): Promise<{ ok: true; options: PublicKeyCredentialRequestOptionsJSON } | Failure> {
	const rp = relyingParty(ctx);
	if ('ok' in rp) return rp;
	const pending = await readPendingSignIn(ctx, input.pendingToken);
	const allowed = pending
		? await ctx.db
				.selectFrom('passkeys')
				.select(['id', 'transports'])
				.where('account_id', '=', pending.accountId)
				.execute()
		: [];
	const options = await (
		await webauthn()
	).generateAuthenticationOptions({
		rpID: rp.rpID,
		allowCredentials: allowed.map((p) => ({
			id: p.id,
			transports: p.transports ? (JSON.parse(p.transports) as AuthenticatorTransport[]) : undefined
		})),
		userVerification: pending ? 'preferred' : 'required'
	});
	await storeChallenge(ctx, options.challenge, {
		kind: 'authentication',
		accountId: pending?.accountId ?? null,
		pendingId: pending?.id ?? null
	});
	return { ok: true, options };
}

/**
 * The assertion, verified against the stored public key and the challenge this server issued.
 * As a first factor the authenticator must have verified the person (PIN, biometrics): a passkey
 * with user verification is two factors in itself. The signature counter must move on (a cloned
 * authenticator replays an old one) unless the authenticator keeps none (always 0).
 */
export async function verifyPasskeySignIn(
	ctx: Ctx,
	input: { response: BrowserCredential; pendingToken: string | null },
	meta: RequestMeta
): Promise<{ ok: true; account: Account } | Failure> {
	const rp = relyingParty(ctx);
	if ('ok' in rp) return rp;
	const pending = await readPendingSignIn(ctx, input.pendingToken);
	const challenge = signedChallenge(input.response.response.clientDataJSON);
	const bound = {
		kind: 'authentication' as const,
		accountId: pending?.accountId ?? null,
		pendingId: pending?.id ?? null
	};
	if (!(await consumeChallenge(ctx, challenge, bound))) return passkeyInvalid();
	const stored = await ctx.db
		.selectFrom('passkeys')
		.selectAll()
		.where('id', '=', input.response.id)
		.executeTakeFirst();
	if (!stored || (pending && stored.account_id !== pending.accountId)) return passkeyInvalid();
	let verified;
	try {
		verified = await (
			await webauthn()
		).verifyAuthenticationResponse({
			response: input.response as unknown as AuthenticationResponseJSON,
			expectedChallenge: challenge!,
			expectedOrigin: rp.origin,
			expectedRPID: rp.rpID,
			credential: {
				id: stored.id,
				publicKey: new Uint8Array(stored.public_key),
				counter: Number(stored.counter),
				transports: stored.transports
					? (JSON.parse(stored.transports) as AuthenticatorTransport[])
					: undefined
			},
			requireUserVerification: !pending
		});
	} catch {
		return passkeyInvalid();
	}
	if (!verified.verified) return passkeyInvalid();
	// The conditional update makes a raced or replayed counter lose.
	const { newCounter } = verified.authenticationInfo;
	const used = await ctx.db
		.updateTable('passkeys')
		.set({ counter: newCounter, last_used_at: ctx.clock.now().getTime() })
		.where('id', '=', stored.id)
		.where((eb) => (newCounter === 0 ? eb('counter', '=', 0) : eb('counter', '<', newCounter)))
		.executeTakeFirst();
	if (used.numUpdatedRows === 0n) return passkeyInvalid();
	if (pending) return completeSignIn(ctx, pending, 'passkey', meta);
	const account = await pendingAccount(ctx, stored.account_id);
	if (!account) return passkeyInvalid();
	await auditSignedIn(ctx, account, 'passkey', meta);
	return { ok: true, account };
}
