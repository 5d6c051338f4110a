import { listQueue, QUEUE_FILTERS, type QueueFilter } from '$lib/server/appeals';
import { requireAgent } from '$lib/server/http/agent-guard';
import type { PageServerLoad } from './$types';

/** R20: the queue, earliest due first, filtered by status. */
export const load: PageServerLoad = async (event) => {
	const agent = requireAgent(event, { page: true });
	const requested = event.url.searchParams.get('status') ?? 'open';
	const filter: QueueFilter = (QUEUE_FILTERS as readonly string[]).includes(requested)
		? (requested as QueueFilter)
		: 'open';
	const { app } = event.locals;
	return {
		filter,
		filters: QUEUE_FILTERS,
		items: await listQueue(app, agent, filter),
		now: app.clock.now().toISOString()
	};
};
