import { z } from 'zod';
import { listAuditEvents } from '$lib/server/support';
import { requireAgent } from '$lib/server/http/agent-guard';
import type { PageServerLoad } from './$types';

const auditFilter = z.object({
	action: z.string().trim().max(60).optional(),
	subject: z.string().trim().max(64).optional(),
	before: z.coerce.number().int().positive().optional()
});

/** R22: admins read the append-only audit log, filtered by action prefix or subject. */
export const load: PageServerLoad = async (event) => {
	requireAgent(event, { page: true, role: 'admin' });
	const parsed = auditFilter.safeParse(Object.fromEntries(event.url.searchParams));
	const filter = parsed.success ? parsed.data : {};
	const events = await listAuditEvents(event.locals.app, {
		action: filter.action,
		subjectId: filter.subject || undefined,
		before: filter.before
	});
	return { events, filter: { action: filter.action ?? '', subject: filter.subject ?? '' } };
};
