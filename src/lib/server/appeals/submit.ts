import { randomUUID } from 'node:crypto';
import { m } from '$lib/paraglide/messages';
import {
	APPEAL_DESCRIPTION_MAX,
	APPEAL_DESCRIPTION_MIN,
	type AppealInput
} from '$lib/schemas/appeal';
import { findAccountByIdentifier } from '../accounts';
import type { Ctx } from '../core/context';
import { audit } from '../core/audit';
import type { UploadedFile } from './documents/inspect';
import { failure, failures, type Failure } from '../core/failures';
import { parseIdentifier } from '../core/identifiers';
import { hashToken } from '../core/tokens';
import { newStatusCode, randomCrockford } from './status-code';
import { appealNoticeMessage } from './messages';
import { announceAppeal } from './recovery-notices';
import { countUploads, inspectUploads, insertDocuments } from './uploads';
import { enqueueMessage, consumeCode, looksLikeCode, verifyCode } from '../messaging';
import { limitAddress } from '../platform/limits';
import type { RequestMeta } from '../core/request-meta';

/** R19/R20: an appeal submitted, with a code to the new contact and identity documents. */

/** R20: every appeal is due 48 hours after it is submitted. */
const APPEAL_SLA_MS = 48 * 3_600_000;

export const APPEALS_PER_IP = { max: 10, windowMs: 3_600_000 };

export interface AppealReceipt {
	reference: string;
	/** The status code (status-code.ts): shown once, to keep; only its hash is stored. */
	statusToken: string;
	dueAt: Date;
}

function newReference(): string {
	const s = randomCrockford(8);
	return `AP-${s.slice(0, 4)}-${s.slice(4)}`;
}

/**
 * R19: appeals per client network (IPv4 address, IPv6 /64 and /48), counted before the body of
 * up to 15 MB is read at all: the routes call this first, then `readMultipart`, then `submitAppeal`.
 */
export async function appealSubmissionAllowed(
	ctx: Ctx,
	meta: Pick<RequestMeta, 'ip'>
): Promise<Failure | null> {
	const byIp = await limitAddress(ctx, 'appeal', meta.ip, APPEALS_PER_IP);
	return byIp.ok ? null : failures.rateLimited(byIp.retryAfterSeconds);
}

/**
 * R19: old identifier, a new contact proven by an `appeal` code (R6), 1–3 documents and a
 * description. The answer is the same whether or not the old identifier has an account, so an
 * appeal cannot be used to find out who is registered.
 */
export async function submitAppeal(
	ctx: Ctx,
	input: AppealInput,
	files: UploadedFile[],
	meta: RequestMeta
): Promise<({ ok: true } & AppealReceipt) | Failure> {
	const { db } = ctx;
	const old = parseIdentifier(input.identifier, input.country);
	if (!old.ok) return failures.invalidIdentifier(old.problem, 'identifier');
	const next = parseIdentifier(input.newIdentifier, input.newCountry ?? input.country);
	if (!next.ok) return failures.invalidIdentifier(next.problem, 'newIdentifier');
	if (old.identifier.value === next.identifier.value) {
		return failure(400, 'same_identifier', m.error_appeal_same_identifier(), {
			field: 'newIdentifier'
		});
	}
	const description = input.description.trim();
	if (
		[...description].length < APPEAL_DESCRIPTION_MIN ||
		[...description].length > APPEAL_DESCRIPTION_MAX
	) {
		return failure(
			400,
			'invalid_description',
			m.error_appeal_description({ min: APPEAL_DESCRIPTION_MIN, max: APPEAL_DESCRIPTION_MAX }),
			{ field: 'description' }
		);
	}
	if (!looksLikeCode(input.newIdentifierCode)) {
		return { ...failures.codeFormat(), field: 'newIdentifierCode' };
	}
	const count = countUploads(files);
	if (count) return count;
	// R19/R6: the code is judged before any document is: without the right code an upload costs
	// one attempt and a lookup, never an inspection. A right code stays unused until the appeal
	// is stored with it below.
	const verified = await verifyCode(ctx, {
		purpose: 'appeal',
		identifier: next.identifier.value,
		code: input.newIdentifierCode
	});
	if (!verified.ok) return { ...failures.code(verified.reason), field: 'newIdentifierCode' };
	const uploads = await inspectUploads(ctx, files);
	if (!uploads.ok) return uploads;

	const account = await findAccountByIdentifier(ctx, old.identifier);
	const statusToken = newStatusCode();
	return db.transaction().execute(async (trx) => {
		// Consumed in the transaction: a wrong code's attempt is counted (the callback returns,
		// it does not throw), a right one is used only if the appeal is stored with it.
		const code = await consumeCode(
			{ ...ctx, db: trx },
			{ purpose: 'appeal', identifier: next.identifier.value, code: input.newIdentifierCode },
			// `verifyCode` above already counted this attempt against the hourly cap.
			{ counted: true }
		);
		if (!code.ok) return { ...failures.code(code.reason), field: 'newIdentifierCode' };
		const now = ctx.clock.now().getTime();
		let reference = newReference();
		while (
			await trx
				.selectFrom('appeals')
				.select('id')
				.where('reference', '=', reference)
				.executeTakeFirst()
		) {
			reference = newReference();
		}
		const id = randomUUID();
		await trx
			.insertInto('appeals')
			.values({
				id,
				reference,
				status_token_hash: hashToken(statusToken),
				account_id: account?.id ?? null,
				old_identifier: old.identifier.value,
				new_identifier: next.identifier.value,
				description,
				status: 'submitted',
				locale: meta.locale,
				created_at: now,
				due_at: now + APPEAL_SLA_MS,
				updated_at: now,
				assigned_agent_id: null,
				decided_at: null,
				decided_by: null,
				decision_reason: null,
				claimed_at: null,
				first_approval_by: null,
				first_approval_at: null,
				// §8a: evidence for agents, and what the bound contacts are told.
				ip_country: meta.ipCountry
			})
			.execute();
		await insertDocuments({ ...ctx, db: trx }, id, now, uploads.documents, 'submission');
		await enqueueMessage(
			{ ...ctx, db: trx },
			appealNoticeMessage(next.identifier, 'received', reference, meta.locale, {
				origin: ctx.config.origin
			})
		);
		// §8a: everyone bound to the account hears of it at once, with a link that stops it. An
		// appeal for an identifier without an account sends nothing (and answers the same).
		const noticed = account
			? await announceAppeal(
					{ ...ctx, db: trx },
					{
						id,
						account_id: account.id,
						new_identifier: next.identifier.value,
						created_at: now,
						due_at: now + APPEAL_SLA_MS,
						ip_country: meta.ipCountry
					},
					account
				)
			: 0;
		await audit(
			{ ...ctx, db: trx },
			{
				actorKind: 'anonymous',
				actorId: null,
				action: 'appeal.submitted',
				subjectKind: 'appeal',
				subjectId: id,
				ip: meta.ip,
				details: {
					reference,
					documents: uploads.documents.length,
					accountFound: account !== undefined,
					ipCountry: meta.ipCountry,
					holdersNotified: noticed
				}
			}
		);
		return { ok: true as const, reference, statusToken, dueAt: new Date(now + APPEAL_SLA_MS) };
	});
}
