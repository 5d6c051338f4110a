import { m } from '$lib/paraglide/messages';
import type { Locale } from '$lib/paraglide/runtime';
import type { Identifier } from '../core/identifiers';
import type { OutgoingMessage } from './outbox';
import { messageLink, messageTime, messageTo, translatedMessage } from './templates';

/**
 * Rules §8a: the messages of recovery the owner controls. To the contacts bound to an account when
 * an appeal is filed for it (and, during the hold, every day until the rebind): who asked, from
 * where, what happens next, and a single-use link that stops it. To the person who filed it: the
 * approval with its date, or that the account's current holder stopped it (never who).
 */

/** The cancel link: on the configured ORIGIN only (never a request's Host). */
export function recoveryCancelLink(origin: string | undefined, token: string): string {
	return messageLink(origin, `/recovery/cancel?${new URLSearchParams({ token })}`);
}

/** §8a: an appeal was filed for the account; sent at once to every bound contact. */
export function recoveryFiledMessage(
	to: Identifier,
	locale: Locale,
	text: {
		newContact: string;
		at: Date;
		country: string;
		dueAt: Date;
		holdHours: number;
		link: string;
	}
): OutgoingMessage {
	return translatedMessage(
		to,
		'recovery_filed',
		locale,
		{
			subject: m.msg_recovery_filed_subject,
			body: text.holdHours > 0 ? m.msg_recovery_filed : m.msg_recovery_filed_no_hold,
			sms: m.msg_sms_recovery_filed
		},
		{
			newContact: text.newContact,
			time: messageTime(text.at, locale),
			country: text.country,
			due: messageTime(text.dueAt, locale),
			hours: String(text.holdHours),
			link: text.link
		}
	);
}

/** §8a: the appeal was approved and waits out its hold; sent at approval and every 24 hours. */
export function recoveryHeldMessage(
	to: Identifier,
	locale: Locale,
	text: { newContact: string; effectiveAt: Date; link: string }
): OutgoingMessage {
	return translatedMessage(
		to,
		'recovery_held',
		locale,
		{
			subject: m.msg_recovery_held_subject,
			body: m.msg_recovery_held,
			sms: m.msg_sms_recovery_held
		},
		{
			newContact: text.newContact,
			effective: messageTime(text.effectiveAt, locale),
			link: text.link
		}
	);
}

/** §8a: to the person who filed: approved, and when it takes effect unless it is stopped. */
export function appealHeldMessage(
	to: Identifier,
	locale: Locale,
	text: { reference: string; effectiveAt: Date; origin: string | undefined }
): OutgoingMessage {
	return messageTo(to, 'appeal_approved_held', locale, {
		subject: m.msg_appeal_subject({ reference: text.reference }, { locale }),
		body: m.msg_appeal_approved_held(
			{
				reference: text.reference,
				effective: messageTime(text.effectiveAt, locale),
				link: messageLink(
					text.origin,
					`/appeal/status?${new URLSearchParams({ reference: text.reference })}`
				)
			},
			{ locale }
		)
	});
}

/** §8a: to the person who filed: the account's current holder stopped the appeal (never who). */
export function appealCancelledMessage(
	to: Identifier,
	locale: Locale,
	text: { reference: string; origin: string | undefined }
): OutgoingMessage {
	return messageTo(to, 'appeal_cancelled', locale, {
		subject: m.msg_appeal_subject({ reference: text.reference }, { locale }),
		body: m.msg_appeal_cancelled(
			{
				reference: text.reference,
				link: messageLink(
					text.origin,
					`/appeal/status?${new URLSearchParams({ reference: text.reference })}`
				)
			},
			{ locale }
		)
	});
}
