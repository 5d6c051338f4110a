import { redirect, type RequestEvent } from '@sveltejs/kit';
import { recoveryCancelOwnerInput } from '$lib/schemas/recovery';
import { cancelRecoveryByOwner } from '$lib/server/appeals';
import { requestMeta } from '$lib/server/http/request-meta';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';

/**
 * Rules §8a (R24): the `?/cancelRecovery` form action of the pages that show the recovery banner
 * (`/account`, `/account/security`): the owner stops a pending recovery with the current password.
 */
export async function cancelRecoveryAction(event: RequestEvent) {
	const { account } = event.locals;
	if (!account) redirect(303, '/login');
	const input = parseForm(
		recoveryCancelOwnerInput,
		await readForm(event.request, ['currentPassword'])
	);
	if (!input.ok) return failForm(input.failure, {});
	const result = await cancelRecoveryByOwner(
		event.locals.app,
		account,
		input.data,
		requestMeta(event)
	);
	if (!result.ok) return failForm(result, {});
	return { recoveryCancelled: true as const };
}
