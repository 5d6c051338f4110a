import { randomBytes } from 'node:crypto';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import type { Ctx } from '../core/context';

/** Ten codes of 10 base32 characters (50 bits each), shown once as `abcde-fghij`. */
const COUNT = 10;
const CODE = /^[a-z2-7]{10}$/;

function normalize(code: string): string {
	return code
		.normalize('NFKC')
		.toLowerCase()
		.replace(/[\s-]+/g, '');
}

function looksLikeRecoveryCode(code: string): boolean {
	return CODE.test(normalize(code));
}

// Keyed with the ring (outside the database): a copy of the database cannot test 2^50 guesses.
const hashOf = (ctx: Ctx, accountId: string, code: string) =>
	ctx.keys.hmac('recovery-code', accountId, normalize(code));

/** Replaces the account's recovery codes with ten new ones; only their keyed hashes are stored. */
export async function issueRecoveryCodes(ctx: Ctx, accountId: string): Promise<string[]> {
	const codes = Array.from({ length: COUNT }, () => {
		const raw = encodeBase32LowerCaseNoPadding(randomBytes(7)).slice(0, 10);
		return `${raw.slice(0, 5)}-${raw.slice(5)}`;
	});
	const now = ctx.clock.now().getTime();
	await ctx.db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
	await ctx.db
		.insertInto('recovery_codes')
		.values(
			codes.map((code) => ({
				code_hash: hashOf(ctx, accountId, code),
				account_id: accountId,
				created_at: now
			}))
		)
		.execute();
	return codes;
}

/** Single use: the delete is the claim, so two requests racing with one code cannot both pass. */
export async function useRecoveryCode(ctx: Ctx, accountId: string, code: string): Promise<boolean> {
	if (!looksLikeRecoveryCode(code)) return false;
	const used = await ctx.db
		.deleteFrom('recovery_codes')
		.where('code_hash', '=', hashOf(ctx, accountId, code))
		.where('account_id', '=', accountId)
		.executeTakeFirst();
	return used.numDeletedRows > 0n;
}

export async function countRecoveryCodes(ctx: Ctx, accountId: string): Promise<number> {
	const row = await ctx.db
		.selectFrom('recovery_codes')
		.select((eb) => eb.fn.countAll<number>().as('n'))
		.where('account_id', '=', accountId)
		.executeTakeFirst();
	return Number(row?.n ?? 0);
}
