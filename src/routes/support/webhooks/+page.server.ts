import { m } from '$lib/paraglide/messages';
import { failure } from '$lib/server/core/failures';
import { requireAgent } from '$lib/server/http/agent-guard';
import { failForm, readForm } from '$lib/server/http/forms';
import { listDeliveries, resendDelivery } from '$lib/server/webhooks';
import type { Actions, PageServerLoad } from './$types';

/** R27: admins see recent webhook deliveries, failures first (no bodies, the receiver's host only). */
export const load: PageServerLoad = async (event) => {
	requireAgent(event, { page: true, role: 'admin' });
	const { app } = event.locals;
	const deliveries = await listDeliveries(app);
	return {
		enabled: app.config.webhooks !== undefined,
		deliveries: deliveries.map((row) => ({
			...row,
			createdAt: row.createdAt.toISOString(),
			nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
			deliveredAt: row.deliveredAt?.toISOString() ?? null
		}))
	};
};

export const actions: Actions = {
	/** R27: a failed delivery goes out again with the same id; audited as `webhook.resent`. */
	resend: async (event) => {
		const agent = requireAgent(event, { role: 'admin' });
		const { id } = await readForm(event.request, ['id']);
		const resent =
			typeof id === 'string' && id.length <= 64
				? await resendDelivery(event.locals.app, agent, id, { ip: event.locals.clientAddress })
				: false;
		if (!resent)
			return failForm(failure(409, 'not_resendable', m.con_webhooks_not_resendable()), {});
		return { resent: id };
	}
};
