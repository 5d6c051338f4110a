import { error, type RequestEvent } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages';
import { decisionReason } from '$lib/schemas/appeal';
import {
	assignAppeal,
	claimAppeal,
	decideAppeal,
	type Decision,
	appealEvidence,
	appealForAgent
} from '$lib/server/appeals';
import { requireAgent } from '$lib/server/http/agent-guard';
import { failure } from '$lib/server/core/failures';
import { failForm, readForm } from '$lib/server/http/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const agent = requireAgent(event, { page: true });
	const { app } = event.locals;
	const [appeal, evidence] = await Promise.all([
		appealForAgent(app, agent, event.params.id),
		appealEvidence(app, event.params.id)
	]);
	if (!appeal || !evidence)
		error(404, { message: m.error_appeal_not_found(), code: 'appeal_not_found' });
	return {
		appeal,
		evidence,
		now: app.clock.now().toISOString(),
		secondApproval: app.config.appeals.requireSecondApproval,
		// §8: the approve confirmation says how long the recovery hold is (0: the rebind is at once).
		holdHours: app.config.appeals.recoveryHoldMs / 3_600_000
	};
};

async function decide(event: RequestEvent<{ id: string }>, kind: Decision['kind']) {
	// R22: the role is checked in the action itself; the page's load does not guard actions.
	const agent = requireAgent(event);
	let decision: Decision = { kind: 'approve' };
	if (kind === 'approve') {
		// §8: an approval (the first of two as well as the second) is confirmed like a rejection:
		// the form's box says what follows (the hold, then the rebind), with or without JS.
		const { confirm } = await readForm(event.request, ['confirm']);
		if (confirm !== 'yes')
			return failForm(
				failure(400, 'confirm_required', m.con_approve_confirm_needed(), { field: 'confirm' }),
				{ decision: 'approve' as const }
			);
	} else {
		const { reason, confirm } = await readForm(event.request, ['reason', 'confirm']);
		const parsed = decisionReason.safeParse(reason ?? '');
		if (!parsed.success)
			return failForm(
				failure(400, 'invalid_reason', m.support_error_reason(), { field: 'reason' }),
				{ reason: reason ?? '' }
			);
		// A rejection is final: the form's "I confirm" box is its second step, with or without JS.
		if (kind === 'reject' && confirm !== 'yes')
			return failForm(
				failure(400, 'confirm_required', m.con_reject_confirm_needed(), { field: 'confirm' }),
				{ decision: 'reject' as const, reason: reason ?? '' }
			);
		decision = { kind, reason: parsed.data };
	}
	const result = await decideAppeal(event.locals.app, agent, event.params.id, decision, {
		ip: event.locals.clientAddress
	});
	if (!result.ok) return failForm(result, {});
	return { outcome: result.outcome };
}

/** R22: the agent claims the appeal, or (`takeOver`) takes it from the agent who holds it. */
async function claim(event: RequestEvent<{ id: string }>, takeOver: boolean) {
	const agent = requireAgent(event);
	const result = await claimAppeal(
		event.locals.app,
		agent,
		event.params.id,
		{ takeOver },
		{ ip: event.locals.clientAddress }
	);
	return result.ok ? { claimed: true } : failForm(result, {});
}

export const actions: Actions = {
	claim: (event) => claim(event, false),
	takeOver: (event) => claim(event, true),
	assign: async (event) => {
		const admin = requireAgent(event, { role: 'admin' });
		const { agentId } = await readForm(event.request, ['agentId']);
		const result = await assignAppeal(event.locals.app, admin, event.params.id, agentId ?? '', {
			ip: event.locals.clientAddress
		});
		return result.ok ? { assigned: true } : failForm(result, {});
	},
	approve: (event) => decide(event, 'approve'),
	reject: (event) => decide(event, 'reject'),
	needsInfo: (event) => decide(event, 'needs_info')
};
