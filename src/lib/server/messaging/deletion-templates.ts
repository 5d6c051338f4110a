import { m } from '$lib/paraglide/messages';
import type { Locale } from '$lib/paraglide/runtime';
import type { Identifier } from '../core/identifiers';
import type { OutgoingMessage } from './outbox';
import { messageLink, messageTime, translatedMessage } from './templates';

/**
 * R28: the messages of the owner's deletion, to every contact bound to the account: that it was
 * asked for (when it takes effect, and a link that keeps the account), that it was cancelled, and
 * that it happened (the last message about the account).
 */

/** The keep-my-account link: on the configured ORIGIN only (never a request's Host). */
export function deletionCancelLink(origin: string | undefined, token: string): string {
	return messageLink(origin, `/account/deletion/cancel?${new URLSearchParams({ token })}`);
}

export function deletionScheduledMessage(
	to: Identifier,
	locale: Locale,
	text: { effectiveAt: Date; link: string }
): OutgoingMessage {
	return translatedMessage(
		to,
		'deletion_scheduled',
		locale,
		{
			subject: m.msg_deletion_scheduled_subject,
			body: m.msg_deletion_scheduled,
			sms: m.msg_sms_deletion_scheduled
		},
		{ due: messageTime(text.effectiveAt, locale), link: text.link }
	);
}

export function deletionCancelledMessage(to: Identifier, locale: Locale): OutgoingMessage {
	return translatedMessage(
		to,
		'deletion_cancelled',
		locale,
		{
			subject: m.msg_deletion_cancelled_subject,
			body: m.msg_deletion_cancelled,
			sms: m.msg_sms_deletion_cancelled
		},
		{}
	);
}

export function accountErasedMessage(to: Identifier, locale: Locale): OutgoingMessage {
	return translatedMessage(
		to,
		'account_erased',
		locale,
		{
			subject: m.msg_account_erased_subject,
			body: m.msg_account_erased,
			sms: m.msg_sms_account_erased
		},
		{}
	);
}
