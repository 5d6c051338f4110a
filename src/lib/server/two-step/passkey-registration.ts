import type {
	PublicKeyCredentialCreationOptionsJSON,
	RegistrationResponseJSON
} from '@simplewebauthn/server';
import { verifyWebAuthn, webauthn } from './webauthn';
import type { Ctx } from '../core/context';
import type { RequestMeta } from '../core/request-meta';
import { auditOwnTwoStep } from './activity';
import type { Account } from '../db/schema';
import type { Failure } from '../core/failures';
import { maskIdentifier } from '../core/identifiers';
import {
	consumeChallenge,
	signedChallenge,
	storeChallenge,
	type BrowserCredential
} from './challenges';
import { confirmCurrentPassword, refuseIfFrozen } from '../accounts';
import { accountUserHandle, passkeyInvalid, relyingParty, type PasskeyView } from './passkeys';
import { tellTwoStepChange } from './notices';

const RP_NAME = 'Account Security Check';

function contactLabel(account: Account): string {
	if (account.email) return maskIdentifier({ kind: 'email', value: account.email });
	if (account.phone) return maskIdentifier({ kind: 'phone', value: account.phone });
	return RP_NAME;
}

/** Step 1 (password again, as for TOTP): creation options; the challenge is kept server-side. */
export async function passkeyRegistrationOptions(
	ctx: Ctx,
	account: Account,
	input: { currentPassword: string }
): Promise<{ ok: true; options: PublicKeyCredentialCreationOptionsJSON } | Failure> {
	const rp = relyingParty(ctx);
	if ('ok' in rp) return rp;
	const refused = await confirmCurrentPassword(ctx, account, input.currentPassword, 'two-step');
	if (refused) return refused;
	const existing = await ctx.db
		.selectFrom('passkeys')
		.select(['id', 'transports'])
		.where('account_id', '=', account.id)
		.execute();
	const label = contactLabel(account);
	const options = await (
		await webauthn()
	).generateRegistrationOptions({
		rpName: RP_NAME,
		rpID: rp.rpID,
		userName: label,
		userDisplayName: label,
		userID: Buffer.from(await accountUserHandle(ctx, account.id), 'base64url'),
		attestationType: 'none',
		excludeCredentials: existing.map((p) => ({
			id: p.id,
			transports: p.transports ? (JSON.parse(p.transports) as string[]) : undefined
		})),
		// Discoverable, so the same passkey can also be the first factor on /login.
		authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' }
	});
	await storeChallenge(ctx, options.challenge, { kind: 'registration', accountId: account.id });
	return { ok: true, options };
}

/** Step 2: the attestation, verified here against the challenge this server issued, once. */
export async function registerPasskey(
	ctx: Ctx,
	account: Account,
	input: { response: BrowserCredential; name?: string | undefined },
	meta: RequestMeta
): Promise<{ ok: true; passkey: PasskeyView } | Failure> {
	const rp = relyingParty(ctx);
	if ('ok' in rp) return rp;
	const frozen = await refuseIfFrozen(ctx, account);
	if (frozen) return frozen;
	const challenge = signedChallenge(input.response.response.clientDataJSON);
	if (!(await consumeChallenge(ctx, challenge, { kind: 'registration', accountId: account.id })))
		return passkeyInvalid();
	const verified = await verifyWebAuthn({ ...rp, challenge: challenge! }, (library, expected) =>
		library.verifyRegistrationResponse({
			response: input.response as unknown as RegistrationResponseJSON,
			...expected,
			requireUserVerification: false
		})
	);
	if (!verified?.verified) return passkeyInvalid();
	const { credential } = verified.registrationInfo;
	// The handle the options carried (the account's, unchanged since: it is kept per passkey).
	const userHandle = await accountUserHandle(ctx, account.id);
	const now = ctx.clock.now().getTime();
	const name = input.name?.trim() || 'Passkey';
	// §7a: the passkey, its audit entry and the owner's notice commit together.
	const added = await ctx.db.transaction().execute(async (trx) => {
		const tx = { ...ctx, db: trx };
		const inserted = await trx
			.insertInto('passkeys')
			.values({
				id: credential.id,
				account_id: account.id,
				public_key: credential.publicKey,
				counter: credential.counter,
				transports: credential.transports ? JSON.stringify(credential.transports) : null,
				name,
				created_at: now,
				last_used_at: null,
				user_handle: userHandle
			})
			.onConflict((oc) => oc.column('id').doNothing())
			.executeTakeFirst();
		if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
		await auditOwnTwoStep(tx, account.id, 'account.passkey_added', meta);
		await tellTwoStepChange(tx, account, 'passkey_added', meta, now);
		return true;
	});
	if (!added) return passkeyInvalid();
	return {
		ok: true,
		passkey: { id: credential.id, name, createdAt: new Date(now).toISOString(), lastUsedAt: null }
	};
}
