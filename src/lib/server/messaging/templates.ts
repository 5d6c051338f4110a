import { m } from '$lib/paraglide/messages';
import { isLocale, baseLocale, type Locale } from '$lib/paraglide/runtime';
import type { CodePurpose } from '../db/schema';
import { maskIdentifier, type Identifier } from '../core/identifiers';
import type { OutgoingMessage } from './outbox';

const actions: Record<
	CodePurpose,
	(inputs: Record<string, never>, options: { locale: Locale }) => string
> = {
	register: m.code_purpose_register,
	check: m.code_purpose_check,
	contact_change: m.code_purpose_contact_change,
	password_reset: m.code_purpose_password_reset,
	appeal: m.code_purpose_appeal
};

/**
 * A link for a message: absolute on the configured ORIGIN, so mail and SMS apps make it clickable.
 * Never built from a request's Host (a forged Host would put the sender's site in the message);
 * without ORIGIN only the path, which the person can still type after the site's address.
 */
export function messageLink(origin: string | undefined, path: string): string {
	return origin ? new URL(path, origin).href : path;
}

/** A moment as the person reads it: in their language, in UTC, named as such. */
export function messageTime(at: Date, locale: Locale): string {
	return new Intl.DateTimeFormat(locale, {
		year: 'numeric',
		month: 'long',
		day: 'numeric',
		hour: '2-digit',
		minute: '2-digit',
		timeZone: 'UTC',
		timeZoneName: 'short'
	}).format(at);
}

export function asLocale(value: string | null | undefined): Locale {
	return value && isLocale(value) ? value : baseLocale;
}

/**
 * Every message a person receives is built here or from `messageTo`: by email or SMS as the
 * identifier says, in the person's language, all text from the translated messages.
 */
export function messageTo(
	to: Identifier,
	purpose: string,
	locale: Locale,
	text: { subject: string; body: string; smsBody?: string }
): OutgoingMessage {
	return to.kind === 'email'
		? {
				channel: 'email',
				recipient: to.value,
				purpose,
				locale,
				subject: text.subject,
				body: text.body
			}
		: {
				channel: 'sms',
				recipient: to.value,
				purpose,
				locale,
				subject: null,
				body: text.smsBody ?? text.body
			};
}

/** One translated message of messages/*.json, filled with `inputs` in `locale`. */
type Translated<Inputs> = (inputs: Inputs, options: { locale: Locale }) => string;

/**
 * A message whose email and SMS bodies are translated messages filled with the same `values`,
 * under a subject that takes none.
 */
export function translatedMessage<Values>(
	to: Identifier,
	purpose: string,
	locale: Locale,
	texts: {
		subject: Translated<Record<string, never>>;
		body: Translated<NoInfer<Values>>;
		sms: Translated<NoInfer<Values>>;
	},
	values: Values
): OutgoingMessage {
	return messageTo(to, purpose, locale, {
		subject: texts.subject({}, { locale }),
		body: texts.body(values, { locale }),
		smsBody: texts.sms(values, { locale })
	});
}

/** R6/R7: the code message. */
export function codeMessage(
	to: Identifier,
	purpose: CodePurpose,
	code: string,
	locale: Locale
): OutgoingMessage {
	const action = actions[purpose]({}, { locale });
	return messageTo(to, purpose, locale, {
		subject: m.msg_code_subject({ code }, { locale }),
		body: m.msg_code_body({ code, action }, { locale }),
		smsBody: m.msg_sms_code_body({ code, action }, { locale })
	});
}

/** R17: to the old contact, with the way back (an appeal) if the change was not theirs. */
export function contactChangedMessage(
	old: Identifier,
	next: Identifier,
	changeId: string,
	locale: Locale,
	origin: string | undefined
): OutgoingMessage {
	return messageTo(old, 'contact_changed', locale, {
		subject: m.msg_contact_changed_subject({}, { locale }),
		body: m.msg_contact_changed(
			{ masked: maskIdentifier(next), link: messageLink(origin, `/appeal?change=${changeId}`) },
			{ locale }
		)
	});
}

/** R18: the password was reset. */
export function passwordResetMessage(to: Identifier, locale: Locale): OutgoingMessage {
	return messageTo(to, 'password_reset_done', locale, {
		subject: m.msg_password_reset_subject({}, { locale }),
		body: m.msg_password_reset({}, { locale })
	});
}

/** The owner changed the password while signed in; every other session was signed out. */
export function passwordChangedMessage(to: Identifier, locale: Locale): OutgoingMessage {
	return messageTo(to, 'password_changed', locale, {
		subject: m.msg_password_changed_subject({}, { locale }),
		body: m.msg_password_changed({}, { locale })
	});
}

/** A sign-in from a device the account had not used: when, where, what, and the way out. */
export function newDeviceMessage(
	to: Identifier,
	locale: Locale,
	sign: { at: Date; country: string; device: string; link: string }
): OutgoingMessage {
	return translatedMessage(
		to,
		'new_device_sign_in',
		locale,
		{ subject: m.msg_new_device_subject, body: m.msg_new_device, sms: m.msg_sms_new_device },
		{
			time: messageTime(sign.at, locale),
			country: sign.country,
			device: sign.device,
			link: sign.link
		}
	);
}
