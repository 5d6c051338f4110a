import { redirect } from '@sveltejs/kit';
import {
	passkeyRemoveInput,
	passkeyRenameInput,
	secondFactorCodeInput,
	totpDisableInput,
	totpStartInput
} from '$lib/schemas/two-step';
import { failForm, parseForm, readForm } from '$lib/server/http/forms';
import { requestMeta } from '$lib/server/http/request-meta';
import { qrDataUrl } from '$lib/server/platform/qr-svg';
import {
	confirmTotpSetup,
	countRecoveryCodes,
	disableTotp,
	echoTotpSetup,
	hasTotp,
	listPasskeys,
	regenerateRecoveryCodes,
	removePasskey,
	renamePasskey,
	startTotpSetup
} from '$lib/server/two-step';
import { failure } from '$lib/server/core/failures';
import { m } from '$lib/paraglide/messages';
import { openSudoWindow, sudoUntil, type Reauth } from '$lib/server/accounts';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

/** §7a: turning a factor off or removing one takes a ticked "I confirm" box, JS on or off. */
const unconfirmed = (values: Record<string, string | undefined>) =>
	values.confirm === 'yes'
		? null
		: failure(400, 'confirm_required', m.two_step_confirm_needed(), { field: 'confirm' });

export const load: PageServerLoad = async ({ locals, setHeaders }) => {
	if (!locals.account) redirect(303, '/login');
	setHeaders({ 'cache-control': 'no-store' });
	const { app, account, session } = locals;
	const until = session ? await sudoUntil(app, account, session.id) : null;
	return {
		sudoUntil: until?.toISOString() ?? null,
		totpOn: await hasTotp(app, account.id),
		recoveryCodesLeft: await countRecoveryCodes(app, account.id),
		passkeys: await listPasskeys(app, account.id),
		passkeysAvailable: Boolean(app.config.origin)
	};
};

function signedIn(event: RequestEvent) {
	const { account } = event.locals;
	if (!account) redirect(303, '/login');
	return account;
}

/**
 * §7a: with no password typed, this session's open re-authentication window stands in for it;
 * otherwise (or once the window closed) the password is checked as before.
 */
async function windowReauth(
	event: RequestEvent,
	password: string | undefined
): Promise<Reauth | null> {
	const { app, account, session } = event.locals;
	if (password || !account || !session) return null;
	return (await sudoUntil(app, account, session.id)) ? { sessionId: session.id } : null;
}

/** The password as typed, or (none typed) the open window; parsed like the set-up's password. */
async function reauthInput(event: RequestEvent, password: string | undefined) {
	const windowed = await windowReauth(event, password);
	return windowed
		? { ok: true as const, data: windowed as Reauth }
		: parseForm(totpStartInput, { currentPassword: password ?? '' });
}

/** The scan step: QR code and key, shown after the password and again after a wrong code. */
async function scanStep(setup: { secret: string; otpauthUri: string }) {
	return { step: 'scan' as const, secret: setup.secret, qr: await qrDataUrl(setup.otpauthUri) };
}

export const actions: Actions = {
	/** §7a: the password once opens 10 minutes for this session (the owner's "sudo" window). */
	reauth: async (event) => {
		const account = signedIn(event);
		const values = await readForm(event.request, ['currentPassword']);
		const input = parseForm(totpStartInput, { currentPassword: values.currentPassword ?? '' });
		if (!input.ok) return failForm(input.failure, { reauth: true });
		const session = event.locals.session;
		if (!session) redirect(303, '/login');
		const result = await openSudoWindow(
			event.locals.app,
			account,
			session.id,
			input.data.currentPassword
		);
		if (!result.ok) return failForm(result, { reauth: true });
		return { reauthUntil: result.until.toISOString() };
	},
	start: async (event) => {
		const account = signedIn(event);
		const values = await readForm(event.request, ['currentPassword']);
		const input = await reauthInput(event, values.currentPassword);
		if (!input.ok) return failForm(input.failure, {});
		const result = await startTotpSetup(event.locals.app, account, input.data);
		if (!result.ok) return failForm(result, {});
		return scanStep(result);
	},
	confirm: async (event) => {
		const account = signedIn(event);
		const values = await readForm(event.request, ['code', 'secret']);
		const again = await echoTotpSetup(event.locals.app, account, values.secret ?? '');
		const echo = again ? await scanStep(again) : {};
		const input = parseForm(secondFactorCodeInput, { code: values.code ?? '' });
		if (!input.ok) return failForm(input.failure, echo);
		const result = await confirmTotpSetup(
			event.locals.app,
			account,
			input.data,
			requestMeta(event)
		);
		if (!result.ok) return failForm(result, echo);
		return { step: 'codes' as const, recoveryCodes: result.recoveryCodes };
	},
	disable: async (event) => {
		const account = signedIn(event);
		const values = await readForm(event.request, ['currentPassword', 'code', 'confirm']);
		const windowed = await windowReauth(event, values.currentPassword);
		const parsed = parseForm(totpDisableInput, {
			currentPassword: values.currentPassword || (windowed ? 'window' : ''),
			code: values.code ?? ''
		});
		const input =
			parsed.ok && windowed
				? { ok: true as const, data: { ...windowed, code: parsed.data.code } }
				: parsed;
		if (!input.ok) return failForm(input.failure, { step: 'on' });
		const notConfirmed = unconfirmed(values);
		if (notConfirmed) return failForm(notConfirmed, { step: 'on' });
		const result = await disableTotp(event.locals.app, account, input.data, requestMeta(event));
		if (!result.ok) return failForm(result, { step: 'on' });
		return { step: 'off' as const };
	},
	/** §7a: a new set of recovery codes; the old set dies. Shown once, like the first set. */
	regenerate: async (event) => {
		const account = signedIn(event);
		const values = await readForm(event.request, ['currentPassword']);
		const input = await reauthInput(event, values.currentPassword);
		if (!input.ok) return failForm(input.failure, { regenerate: true });
		const result = await regenerateRecoveryCodes(
			event.locals.app,
			account,
			input.data,
			requestMeta(event)
		);
		if (!result.ok) return failForm(result, { regenerate: true });
		return { step: 'codes' as const, recoveryCodes: result.recoveryCodes };
	},
	renamePasskey: async (event) => {
		const account = signedIn(event);
		const values = await readForm(event.request, ['id', 'name']);
		const input = parseForm(passkeyRenameInput, { name: values.name ?? '' });
		const passkey = values.id ?? '';
		if (!input.ok) return failForm(input.failure, { passkey });
		const result = await renamePasskey(event.locals.app, account, { id: passkey, ...input.data });
		if (!result.ok) return failForm(result, { passkey });
		return { passkeyDone: 'renamed' as const, passkey };
	},
	removePasskey: async (event) => {
		const account = signedIn(event);
		const values = await readForm(event.request, ['id', 'currentPassword', 'confirm']);
		const windowed = await windowReauth(event, values.currentPassword);
		const input = windowed
			? { ok: true as const, data: windowed }
			: parseForm(passkeyRemoveInput, { currentPassword: values.currentPassword ?? '' });
		const passkey = values.id ?? '';
		if (!input.ok) return failForm(input.failure, { passkey });
		const notConfirmed = unconfirmed(values);
		if (notConfirmed) return failForm(notConfirmed, { passkey });
		const result = await removePasskey(
			event.locals.app,
			account,
			{ id: passkey, ...input.data },
			requestMeta(event)
		);
		if (!result.ok) return failForm(result, { passkey });
		return { passkeyDone: 'removed' as const, passkey };
	}
};
