import { randomUUID } from 'node:crypto';
import { m } from '$lib/paraglide/messages';
import { addressKey } from '../platform/address-key';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import type { AgentsTable } from '../db/schema';
import { failure, failures, type Failure } from '../core/failures';
import {
	checkPassword,
	hashPassword,
	verifyAgainstNothing,
	verifyPassword,
	beginAttempt
} from '../accounts';
import { whileBlocked } from '../platform/limits';
import { matchTotp, newTotpKey, totpKeyUri } from '../core/totp';
import type { Selectable } from 'kysely';

/**
 * R22: agents and admins. Created only from the command line (no default accounts, no sign-up);
 * they sign in with a password and a TOTP code.
 */
export type Agent = Pick<Selectable<AgentsTable>, 'id' | 'username' | 'role'>;
export type Role = Agent['role'];

const USERNAME = /^[a-z0-9][a-z0-9._-]{2,39}$/;
// Agents read identity documents: a longer floor than buyers' R5 minimum.
const AGENT_PASSWORD_MIN_LENGTH = 12;
const FAILURES_BEFORE_LOCK = 5;
const FAILURE_WINDOW_MS = 15 * 60_000;
const LOCK_MS = 15 * 60_000;

export type CreateAgentResult =
	| { ok: true; agent: Agent; totpKey: Uint8Array; totpUri: string }
	| {
			ok: false;
			problem: 'invalid_username' | 'username_taken' | 'invalid_password';
			detail?: string;
	  };

export async function createAgent(
	ctx: Ctx,
	input: { username: string; password: string; role: Role }
): Promise<CreateAgentResult> {
	const username = input.username.trim().toLowerCase();
	if (!USERNAME.test(username)) return { ok: false, problem: 'invalid_username' };
	const problem = checkPassword(input.password, {
		minLength: AGENT_PASSWORD_MIN_LENGTH,
		identifiers: [username]
	});
	if (problem) return { ok: false, problem: 'invalid_password', detail: problem };
	const { db } = ctx;
	const exists = await db
		.selectFrom('agents')
		.select('id')
		.where('username', '=', username)
		.executeTakeFirst();
	if (exists) return { ok: false, problem: 'username_taken' };
	const totpKey = newTotpKey();
	const agent = { id: randomUUID(), username, role: input.role };
	await db
		.insertInto('agents')
		.values({
			...agent,
			password_hash: await hashPassword(input.password),
			// Sealed with the key ring, bound to the agent: a copy of the database holds no TOTP secret.
			totp_key: ctx.keys.seal('totp', agent.id, totpKey),
			created_at: ctx.clock.now().getTime(),
			disabled_at: null,
			totp_last_step: null
		})
		.execute();
	await audit(ctx, {
		actorKind: 'system',
		actorId: null,
		action: 'agent.created',
		subjectKind: 'agent',
		subjectId: agent.id,
		details: { username, role: input.role }
	});
	return { ok: true, agent, totpKey, totpUri: totpKeyUri(username, totpKey) };
}

/** Disables the agent and ends every one of its sessions at once. */
export async function disableAgent(ctx: Ctx, username: string): Promise<boolean> {
	const { db } = ctx;
	const now = ctx.clock.now().getTime();
	const row = await db
		.selectFrom('agents')
		.select('id')
		.where('username', '=', username.trim().toLowerCase())
		.executeTakeFirst();
	if (!row) return false;
	await db.transaction().execute(async (trx) => {
		await trx
			.updateTable('agents')
			.set({ disabled_at: now })
			.where('id', '=', row.id)
			.where('disabled_at', 'is', null)
			.execute();
		await trx.deleteFrom('agent_sessions').where('agent_id', '=', row.id).execute();
		await audit(
			{ ...ctx, db: trx },
			{
				actorKind: 'system',
				actorId: null,
				action: 'agent.disabled',
				subjectKind: 'agent',
				subjectId: row.id
			}
		);
	});
	return true;
}

export async function listAgents(ctx: Ctx) {
	const { db } = ctx;
	return db
		.selectFrom('agents')
		.select(['id', 'username', 'role', 'created_at', 'disabled_at'])
		.orderBy('username')
		.execute();
}

/**
 * Password and TOTP in one step: a wrong password and a wrong code get the same answer and the
 * same argon2 time. A code is accepted once (its step is remembered); repeated failures lock the
 * username and the address for 15 minutes.
 */
export async function signInAgent(
	ctx: Ctx,
	input: { username: string; password: string; otp: string },
	meta: { ip: string }
): Promise<{ ok: true; agent: Agent } | Failure> {
	const { db } = ctx;
	const username = input.username.trim().toLowerCase();
	const userKey = ctx.keys.hmac('agent', username);
	const ipKey = addressKey(ctx.keys, meta.ip);
	for (const key of [`agent-block:u:${userKey}`, `agent-block:ip:${ipKey}`]) {
		const blocked = await whileBlocked(ctx, key);
		if (!blocked.ok) return failures.rateLimited(blocked.retryAfterSeconds);
	}
	// Counted before the argon2 and TOTP work: 100 guesses sent at once meet the lock of 5 too.
	const lockAt = (free: number) => (failures: number) => (failures >= free ? LOCK_MS : 0);
	const attempt = await beginAttempt(ctx, [
		{
			failures: `agent-fail:u:${userKey}`,
			block: `agent-block:u:${userKey}`,
			windowMs: FAILURE_WINDOW_MS,
			delayAfter: lockAt(FAILURES_BEFORE_LOCK),
			clearOnSuccess: true
		},
		{
			failures: `agent-fail:ip:${ipKey}`,
			block: `agent-block:ip:${ipKey}`,
			windowMs: FAILURE_WINDOW_MS,
			delayAfter: lockAt(FAILURES_BEFORE_LOCK * 4),
			clearOnSuccess: false
		}
	]);
	if (!attempt.ok) return failures.rateLimited(attempt.retryAfterSeconds);
	const row = await db
		.selectFrom('agents')
		.selectAll()
		.where('username', '=', username)
		.executeTakeFirst();
	const passwordOk = row
		? await verifyPassword(row.password_hash, input.password)
		: await verifyAgainstNothing(input.password);
	const step =
		row?.totp_key && passwordOk
			? matchTotp(ctx.keys.open('totp', row.id, row.totp_key), ctx.clock, input.otp)
			: null;
	let accepted = false;
	if (row && passwordOk && step !== null && row.disabled_at === null) {
		// The conditional update makes a replayed (or raced) code fail.
		const used = await db
			.updateTable('agents')
			.set({ totp_last_step: step })
			.where('id', '=', row.id)
			.where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
			.executeTakeFirst();
		accepted = used.numUpdatedRows > 0n;
	}
	if (!row || !accepted) {
		await audit(ctx, {
			actorKind: 'anonymous',
			actorId: null,
			action: 'agent.sign_in_failed',
			subjectKind: row ? 'agent' : undefined,
			subjectId: row?.id,
			ip: meta.ip,
			details: {
				reason: !row
					? 'unknown_user'
					: !passwordOk
						? 'password'
						: row.disabled_at
							? 'disabled'
							: 'totp'
			}
		});
		return failure(401, 'invalid_credentials', m.support_error_credentials());
	}
	await attempt.succeeded();
	await audit(ctx, {
		actorKind: row.role,
		actorId: row.id,
		action: 'agent.signed_in',
		subjectKind: 'agent',
		subjectId: row.id,
		ip: meta.ip
	});
	return { ok: true, agent: { id: row.id, username: row.username, role: row.role } };
}
