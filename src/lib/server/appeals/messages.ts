import { m } from '$lib/paraglide/messages';
import type { Locale } from '$lib/paraglide/runtime';
import type { Identifier } from '../core/identifiers';
import { messageTo, type OutgoingMessage } from '../messaging';

export type AppealNotice = 'received' | 'needs_info' | 'rejected' | 'approved_new' | 'approved_old';

const texts: Record<AppealNotice, (i: { reference: string }, o: { locale: Locale }) => string> = {
	received: m.msg_appeal_received,
	needs_info: m.msg_appeal_needs_info,
	rejected: m.msg_appeal_rejected,
	approved_new: m.msg_appeal_approved_new,
	approved_old: m.msg_appeal_approved_old
};

/** R19/R21 notifications; they name the reference, never the status secret or a reason's details. */
export function appealNoticeMessage(
	to: Identifier,
	notice: AppealNotice,
	reference: string,
	locale: Locale,
	options: { twoStepOff?: boolean } = {}
): OutgoingMessage {
	const body = texts[notice]({ reference }, { locale });
	return messageTo(to, `appeal_${notice}`, locale, {
		subject: m.msg_appeal_subject({ reference }, { locale }),
		body: options.twoStepOff ? `${body} ${m.msg_appeal_two_step_off({}, { locale })}` : body
	});
}
