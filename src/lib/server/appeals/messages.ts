import { m } from '$lib/paraglide/messages';
import type { Locale } from '$lib/paraglide/runtime';
import type { Identifier } from '../core/identifiers';
import { messageLink, messageTo, type OutgoingMessage } from '../messaging';

export type AppealNotice = 'received' | 'needs_info' | 'rejected' | 'approved_new' | 'approved_old';

type Text = (
	i: { reference: string; link: string; reset: string },
	o: { locale: Locale }
) => string;
const texts: Record<AppealNotice, Text> = {
	received: m.msg_appeal_received,
	needs_info: m.msg_appeal_needs_info,
	rejected: m.msg_appeal_rejected,
	approved_new: m.msg_appeal_approved_new,
	approved_old: m.msg_appeal_approved_old
};

/**
 * Where each notice leads. The appellant's notices open the status page with the reference filled
 * in; the status secret never travels in a message (only its hash is stored, and the outbox keeps
 * the text until delivery), so the person types it from the receipt. The approval leads to
 * sign-in; the old contact, which did not file the appeal, to an appeal of its own.
 */
function linkPath(notice: AppealNotice, reference: string): string {
	if (notice === 'approved_new') return '/login';
	if (notice === 'approved_old') return '/appeal';
	return `/appeal/status?${new URLSearchParams({ reference })}`;
}

/** R19/R21 notifications; they name the reference, never the status secret or a reason's details. */
export function appealNoticeMessage(
	to: Identifier,
	notice: AppealNotice,
	reference: string,
	locale: Locale,
	options: { origin: string | undefined; twoStepOff?: boolean }
): OutgoingMessage {
	const body = texts[notice](
		{
			reference,
			link: messageLink(options.origin, linkPath(notice, reference)),
			reset: messageLink(options.origin, '/forgot-password')
		},
		{ locale }
	);
	return messageTo(to, `appeal_${notice}`, locale, {
		subject: m.msg_appeal_subject({ reference }, { locale }),
		body: options.twoStepOff ? `${body} ${m.msg_appeal_two_step_off({}, { locale })}` : body
	});
}
