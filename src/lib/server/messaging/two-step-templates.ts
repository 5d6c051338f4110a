import { m } from '$lib/paraglide/messages';
import type { Locale } from '$lib/paraglide/runtime';
import type { Identifier } from '../core/identifiers';
import type { OutgoingMessage } from './outbox';
import { messageTime, translatedMessage } from './templates';

/** What changed in the account's two-step verification (rules §7a, "Two-step changes are told"). */
export type TwoStepChange = 'passkey_added' | 'passkey_removed' | 'totp_on' | 'totp_off';

const changes: Record<TwoStepChange, (inputs: object, options: { locale: Locale }) => string> = {
	passkey_added: m.msg_two_step_change_passkey_added,
	passkey_removed: m.msg_two_step_change_passkey_removed,
	totp_on: m.msg_two_step_change_totp_on,
	totp_off: m.msg_two_step_change_totp_off
};

/**
 * §7a: a second factor was added or removed. When, where, what, and the "this wasn't me" link
 * (built by the caller with `issueSecureAccountLink` on ORIGIN, never a request's Host), which
 * also removes every factor added since this message.
 */
export function twoStepChangedMessage(
	to: Identifier,
	locale: Locale,
	notice: { change: TwoStepChange; at: Date; country: string; device: string; link: string }
): OutgoingMessage {
	return translatedMessage(
		to,
		'two_step_changed',
		locale,
		{
			subject: m.msg_two_step_changed_subject,
			body: m.msg_two_step_changed,
			sms: m.msg_sms_two_step_changed
		},
		{
			change: changes[notice.change]({}, { locale }),
			time: messageTime(notice.at, locale),
			country: notice.country,
			device: notice.device,
			link: notice.link
		}
	);
}

/**
 * §7a alert cap: the last new-device alert of a window says that further ones wait until it ends
 * (the sign-ins are still in the security activity), so silence after it is not mistaken for calm.
 */
export function withAlertsPaused(
	message: OutgoingMessage,
	locale: Locale,
	pause: { count: number; until: Date }
): OutgoingMessage {
	const until = messageTime(pause.until, locale);
	const note =
		message.channel === 'sms'
			? m.msg_sms_new_device_paused({ until }, { locale })
			: m.msg_new_device_paused({ count: pause.count, until }, { locale });
	return { ...message, body: `${message.body}${message.channel === 'sms' ? ' ' : '\n\n'}${note}` };
}
