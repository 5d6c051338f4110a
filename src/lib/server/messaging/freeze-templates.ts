import { m } from '$lib/paraglide/messages';
import type { Locale } from '$lib/paraglide/runtime';
import type { Identifier } from '../core/identifiers';
import type { OutgoingMessage } from './outbox';
import { messageLink, messageTo } from './templates';

/**
 * R18 (rules §7): the reset message carries the code and a one-time link bound to the same code
 * row. The code comes first (people and tools read the first six digits); the link is built on
 * the configured ORIGIN only (`messageLink`), never a request's Host.
 */
export function passwordResetCodeMessage(
	to: Identifier,
	code: string,
	token: string,
	locale: Locale,
	origin: string | undefined
): OutgoingMessage {
	const link = messageLink(origin, `/reset-password?token=${encodeURIComponent(token)}`);
	return messageTo(to, 'password_reset', locale, {
		subject: m.msg_code_subject({ code }, { locale }),
		body: m.msg_reset_code_link_body({ code, link }, { locale }),
		smsBody: m.msg_sms_reset_code_link_body({ code, link }, { locale })
	});
}

/** §7b: the account was frozen; every bound contact is told, with the way to lift it. */
export function accountFrozenMessage(
	to: Identifier,
	locale: Locale,
	origin: string | undefined
): OutgoingMessage {
	const link = messageLink(origin, '/forgot-password');
	return messageTo(to, 'account_frozen', locale, {
		subject: m.msg_account_frozen_subject({}, { locale }),
		body: m.msg_account_frozen({ link }, { locale }),
		smsBody: m.msg_sms_account_frozen({ link }, { locale })
	});
}

/** §7b: the freeze was lifted (by a password reset, or by support). */
export function freezeLiftedMessage(
	to: Identifier,
	locale: Locale,
	by: 'reset' | 'agent'
): OutgoingMessage {
	return messageTo(to, 'account_unfrozen', locale, {
		subject: m.msg_freeze_lifted_subject({}, { locale }),
		body:
			by === 'reset'
				? m.msg_freeze_lifted_reset({}, { locale })
				: m.msg_freeze_lifted_agent({}, { locale })
	});
}
