import type {
	AuthenticationResponseJSON,
	AuthenticatorTransport,
	PublicKeyCredentialRequestOptionsJSON
} from '@simplewebauthn/server';
import { verifyWebAuthn, webauthn } from './webauthn';
import type { Ctx } from '../core/context';
import { failures, type Failure } from '../core/failures';
import type { RequestMeta } from '../core/request-meta';
import { sameSecret } from '../core/tokens';
import { limitAddress } from '../platform/limits';
import {
	consumeChallenge,
	openBrowserChallenge,
	sealBrowserChallenge,
	signedChallenge,
	spendBrowserChallenge,
	storeChallenge,
	type BrowserCredential
} from './challenges';
import { passkeyInvalid, relyingParty } from './passkeys';
import { readPendingSignIn } from './pending';
import { completeSignIn, pendingAccount, type SignInProof } from './second-factor';

/**
 * Options per network (IPv4 address or IPv6 /64; the /48 four times as many): anyone may ask,
 * /login asks on every visit (conditional UI), and nobody needs more.
 */
const PASSKEY_OPTIONS_PER_NETWORK = { max: 60, windowMs: 10 * 60_000 };

/**
 * Request options. With a pending sign-in (the password was right) the passkey is the second
 * factor and only that account's passkeys are allowed; its challenge is a row bound to the pending
 * sign-in (one at a time). Without one, the browser offers any discoverable passkey of this site
 * (conditional UI on /login) and it is the first factor too: that challenge is written nowhere,
 * it goes back sealed (`browserChallenge`) for the route to keep in an HttpOnly cookie.
 */
export async function passkeySignInOptions(
	ctx: Ctx,
	input: { pendingToken: string | null },
	meta: RequestMeta
): Promise<
	| {
			ok: true;
			options: PublicKeyCredentialRequestOptionsJSON;
			browserChallenge: { sealed: string; expiresAt: Date } | null;
	  }
	| Failure
> {
	const rp = relyingParty(ctx);
	if ('ok' in rp) return rp;
	const limited = await limitAddress(ctx, 'passkey-options', meta.ip, PASSKEY_OPTIONS_PER_NETWORK);
	if (!limited.ok) return failures.rateLimited(limited.retryAfterSeconds);
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
	if (!pending)
		return { ok: true, options, browserChallenge: sealBrowserChallenge(ctx, options.challenge) };
	await storeChallenge(ctx, options.challenge, {
		kind: 'authentication',
		accountId: pending.accountId,
		pendingId: pending.id
	});
	return { ok: true, options, browserChallenge: null };
}

/**
 * The assertion, verified against the stored public key and the challenge this server issued:
 * the pending sign-in's row (taken by its use), or for a first factor the sealed challenge of this
 * browser's cookie (`browserChallenge`), unexpired and spent once. As a first factor the
 * authenticator must have verified the person (PIN, biometrics): a passkey with user verification
 * is two factors in itself. The signature counter must move on (a cloned authenticator replays an
 * old one) unless the authenticator keeps none (always 0). A `userHandle` must be the one the
 * passkey was registered with, and as the whole sign-in there must be one (WebAuthn §7.2 step 6).
 */
export async function verifyPasskeySignIn(
	ctx: Ctx,
	input: {
		response: BrowserCredential & { response: { userHandle?: string | undefined } };
		pendingToken: string | null;
		browserChallenge: string | null;
	},
	meta: RequestMeta
): Promise<SignInProof | Failure> {
	const rp = relyingParty(ctx);
	if ('ok' in rp) return rp;
	const pending = await readPendingSignIn(ctx, input.pendingToken);
	const challenge = signedChallenge(input.response.response.clientDataJSON);
	let sealedExpiry: number | null = null;
	if (pending) {
		const bound = {
			kind: 'authentication' as const,
			accountId: pending.accountId,
			pendingId: pending.id
		};
		if (!(await consumeChallenge(ctx, challenge, bound))) return passkeyInvalid();
	} else {
		sealedExpiry = openBrowserChallenge(ctx, input.browserChallenge, challenge);
		if (sealedExpiry === null) return passkeyInvalid();
	}
	const stored = await ctx.db
		.selectFrom('passkeys')
		.selectAll()
		.where('id', '=', input.response.id)
		.executeTakeFirst();
	if (!stored || (pending && stored.account_id !== pending.accountId)) return passkeyInvalid();
	const { userHandle } = input.response.response;
	// §7.2 step 6: as the whole sign-in the assertion names its user, and that must be the one the
	// passkey was registered with; as a second factor the pending sign-in names the account.
	if (!pending && !userHandle) return passkeyInvalid();
	if (userHandle && (stored.user_handle === null || !sameSecret(userHandle, stored.user_handle)))
		return passkeyInvalid();
	// §7a: as the whole sign-in, the session starts at the credential epoch read before the
	// assertion is checked (a second factor uses its pending sign-in's).
	const firstFactorEpoch = pending
		? null
		: ((
				await ctx.db
					.selectFrom('accounts')
					.select('session_epoch')
					.where('id', '=', stored.account_id)
					.executeTakeFirst()
			)?.session_epoch ?? null);
	const verified = await verifyWebAuthn({ ...rp, challenge: challenge! }, (library, expected) =>
		library.verifyAuthenticationResponse({
			response: input.response as unknown as AuthenticationResponseJSON,
			...expected,
			credential: {
				id: stored.id,
				publicKey: new Uint8Array(stored.public_key),
				counter: Number(stored.counter),
				transports: stored.transports
					? (JSON.parse(stored.transports) as AuthenticatorTransport[])
					: undefined
			},
			requireUserVerification: !pending
		})
	);
	if (!verified?.verified) return passkeyInvalid();
	// A sealed challenge is single use: its first verified assertion spends it, replays find it spent.
	if (sealedExpiry !== null && !(await spendBrowserChallenge(ctx, challenge!, sealedExpiry)))
		return passkeyInvalid();
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
	if (!account || firstFactorEpoch === null) return passkeyInvalid();
	return {
		ok: true,
		account,
		epoch: firstFactorEpoch,
		ended: passkeyInvalid(),
		method: 'passkey'
	};
}
