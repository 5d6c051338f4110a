import type { CheckReport } from '$lib/types/check-report';
import type { Db } from './db/database';
import type { Clock } from './clock';
import {
	identifierProblemMessage,
	maskIdentifier,
	parseIdentifier,
	type Identifier
} from './identifiers';
import { findAccountByIdentifier } from './accounts';

export async function checkIdentifier(
	deps: { db: Db; clock: Clock },
	identifier: Identifier
): Promise<CheckReport> {
	const now = deps.clock.now().getTime();
	const account = await findAccountByIdentifier(deps.db, identifier);
	const code = await deps.db
		.selectFrom('verification_codes')
		.select(['purpose', 'expires_at'])
		.where('identifier', '=', identifier.value)
		.where('consumed_at', 'is', null)
		.where('expires_at', '>', now)
		.orderBy('expires_at', 'desc')
		.executeTakeFirst();
	return {
		identifier: { kind: identifier.kind, masked: maskIdentifier(identifier) },
		registered: account !== undefined,
		status: account?.status ?? null,
		nextSteps: account
			? [
					{ action: 'sign_in', href: '/login' },
					{ action: 'forgot_password', href: '/forgot-password' }
				]
			: [{ action: 'register', href: '/register' }],
		verification: code
			? { pending: true, purpose: code.purpose, expiresAt: new Date(code.expires_at).toISOString() }
			: { pending: false },
		tier: 'public'
	};
}

export type CheckOutcome =
	| { ok: true; report: CheckReport }
	| { ok: false; code: 'invalid_identifier'; message: string };

/** The one entry point of the check for the form action and POST /api/v1/check alike (R14). */
export async function runCheck(
	app: { database: { db: Db }; clock: Clock },
	input: { identifier: string; country?: string | undefined }
): Promise<CheckOutcome> {
	const parsed = parseIdentifier(input.identifier, input.country);
	if (!parsed.ok) {
		return { ok: false, code: 'invalid_identifier', message: identifierProblemMessage(parsed.problem) };
	}
	const report = await checkIdentifier({ db: app.database.db, clock: app.clock }, parsed.identifier);
	return { ok: true, report };
}
