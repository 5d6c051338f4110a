import { error, type RequestEvent } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { reviewReason } from '$lib/schemas/risk-review';
import { accountForAgent, decideReview, type ReviewDecision } from '$lib/server/support';
import { CHECK_BURST_MIN } from '$lib/server/check';
import { requireAgent } from '$lib/server/http/agent-guard';
import { failure } from '$lib/server/core/failures';
import { failForm, readForm } from '$lib/server/http/forms';
import { agentLiftFreeze } from '$lib/server/accounts';
import type { Actions, PageServerLoad } from './$types';

/** R22: the full account view for agents; each view is audited by accountForAgent. */
export const load: PageServerLoad = async (event) => {
	const agent = requireAgent(event, { page: true });
	const { app } = event.locals;
	const account = await accountForAgent(app, agent, event.params.id, {
		ip: event.locals.clientAddress
	});
	if (!account)
		error(404, { message: m.support_error_account_unknown(), code: 'account_not_found' });
	return { account, burstMin: CHECK_BURST_MIN };
};

async function decide(event: RequestEvent<{ id: string }>, decision: ReviewDecision) {
	// R22: the role is checked in the action itself; the page's load does not guard actions.
	const agent = requireAgent(event);
	const { reason } = await readForm(event.request, ['reason']);
	const parsed = reviewReason.safeParse(reason ?? '');
	if (!parsed.success)
		return failForm(
			failure(400, 'invalid_reason', m.support_error_review_reason(), { field: 'reason' }),
			{ reason: reason ?? '' }
		);
	const result = await decideReview(
		event.locals.app,
		agent,
		event.params.id,
		{ decision, reason: parsed.data },
		{ ip: event.locals.clientAddress }
	);
	if (!result.ok) return failForm(result, { reason: parsed.data });
	return { reviewed: result.status };
}

export const actions: Actions = {
	// R9: an agent clears (→ active) or confirms (→ disabled) a risk review.
	clearReview: (event) => decide(event, 'clear'),
	confirmReview: (event) => decide(event, 'confirm'),
	/** Rules §7b: an agent lifts the owner's freeze, audited, only with `confirm=yes`. */
	liftFreeze: async (event) => {
		const agent = requireAgent(event);
		const { confirm } = await readForm(event.request, ['confirm']);
		const result = await agentLiftFreeze(event.locals.app, agent, event.params.id, confirm, {
			ip: event.locals.clientAddress
		});
		if (!result.ok) return failForm(result, {});
		return { lifted: true as const };
	}
};
