import { m } from '$lib/paraglide/messages';
import { isLocale, baseLocale, type Locale } from '$lib/paraglide/runtime';
import type { CodePurpose } from '../db/schema';
import type { Identifier } from '../core/identifiers';
import type { OutgoingMessage } from './outbox';

const actions: Record<CodePurpose, (inputs: Record<string, never>, options: { locale: Locale }) => string> = {
	register: m.code_purpose_register,
	check: m.code_purpose_check,
	contact_change: m.code_purpose_contact_change,
	password_reset: m.code_purpose_password_reset,
	appeal: m.code_purpose_appeal
};

export function asLocale(value: string | null | undefined): Locale {
	return value && isLocale(value) ? value : baseLocale;
}

/** R6/R7: the code message, in the person's language, by email or SMS as the identifier says. */
export function codeMessage(to: Identifier, purpose: CodePurpose, code: string, locale: Locale): OutgoingMessage {
	const action = actions[purpose]({}, { locale });
	return to.kind === 'email'
		? {
				channel: 'email',
				recipient: to.value,
				purpose,
				locale,
				subject: m.msg_code_subject({ code }, { locale }),
				body: m.msg_code_body({ code, action }, { locale })
			}
		: {
				channel: 'sms',
				recipient: to.value,
				purpose,
				locale,
				subject: null,
				body: m.msg_sms_code_body({ code, action }, { locale })
			};
}
