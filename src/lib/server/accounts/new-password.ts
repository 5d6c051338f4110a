import { m } from '$lib/paraglide/messages';
import type { Ctx } from '../core/context';
import { failure, type Failure } from '../core/failures';
import { lookUpBreachedPassword } from './breached-passwords';
import { checkPassword, hashPassword, passwordFailure } from './passwords';

/**
 * R5 for every password a person sets (registration, reset, change): the local rules first (no
 * request leaves for a password refused anyway), then the breached-password look-up.
 */
export async function newPasswordFailure(
	ctx: Ctx,
	password: string,
	identifiers: string[],
	field: string
): Promise<Failure | null> {
	const minLength = ctx.config.passwordMinLength;
	const problem = checkPassword(password, { minLength, identifiers });
	if (problem) return passwordFailure(problem, minLength, field);
	if ((await lookUpBreachedPassword(ctx, password)) === 'breached')
		return failure(400, 'password_breached', m.error_password_breached(), { field });
	return null;
}

/** R5 for a reset or a change: the new password refused (its `Failure`), or its hash to store. */
export async function hashNewPassword(
	ctx: Ctx,
	password: string,
	identifiers: string[]
): Promise<{ ok: true; hash: string } | Failure> {
	const refused = await newPasswordFailure(ctx, password, identifiers, 'newPassword');
	return refused ?? { ok: true, hash: await hashPassword(password) };
}
