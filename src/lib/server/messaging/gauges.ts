import { sql } from 'kysely';
import { addGaugeReader, setByLabel, sharedGauge, type Metrics } from '../platform/metrics';

/**
 * The gauges of messaging's own tables, `verification_codes` (R6) and `outbox` (R7), read from
 * the shared database at every scrape (platform/metrics.ts).
 */
export function registerMessagingGauges(metrics: Metrics): void {
	const perPurpose = (name: string, help: string) =>
		sharedGauge(metrics, name, help, ['purpose'] as const);
	const perStatus = (name: string, help: string) =>
		sharedGauge(metrics, name, help, ['status'] as const);
	const codesIssued = perPurpose(
		'asc_verification_codes_issued',
		'Verification codes stored now, by purpose (R6): a resend replaces the previous code, and retention removes codes a day after they expired or were used, so this counts recent codes, not every code ever issued.'
	);
	const codesConfirmed = perPurpose(
		'asc_verification_codes_confirmed',
		'Stored codes that were used (within the last day), by purpose.'
	);
	const codesExpiredUnused = perPurpose(
		'asc_verification_codes_expired_unused',
		'Stored codes that expired without being used (within the last day), by purpose.'
	);
	const codesPending = perPurpose(
		'asc_verification_codes_pending',
		'Codes still usable now, by purpose.'
	);
	const outboxMessages = perStatus(
		'asc_outbox_messages',
		'Outbox messages stored now, by status: pending is the delivery backlog (R7); sent and dead ones are removed OUTBOX_RETENTION_DAYS after.'
	);
	const outboxDeliveryFailures = perStatus(
		'asc_outbox_delivery_failures',
		'Failed delivery attempts recorded on the stored outbox messages, by message status.'
	);
	const outboxMessagesWithError = perStatus(
		'asc_outbox_messages_with_error',
		'Stored outbox messages whose last attempt failed, by status.'
	);

	addGaugeReader(metrics, async ({ db, clock }) => {
		const now = clock.now().getTime();
		const count = sql<number>`count(*)`;
		const [codes, outbox] = await Promise.all([
			db
				.selectFrom('verification_codes')
				.select([
					'purpose as label',
					count.as('issued'),
					sql<number>`sum(case when consumed_at is not null then 1 else 0 end)`.as('confirmed'),
					sql<number>`sum(case when consumed_at is null and expires_at <= ${now} then 1 else 0 end)`.as(
						'expired'
					),
					sql<number>`sum(case when consumed_at is null and expires_at > ${now} then 1 else 0 end)`.as(
						'pending'
					)
				])
				.groupBy('purpose')
				.execute(),
			db
				.selectFrom('outbox')
				.select([
					'status as label',
					count.as('count'),
					sql<number>`coalesce(sum(attempts), 0)`.as('failures'),
					sql<number>`sum(case when last_error is not null then 1 else 0 end)`.as('erroring')
				])
				.groupBy('status')
				.execute()
		]);
		const column = <R extends { label: string }>(rows: R[], field: keyof R) =>
			rows.map((row) => ({ label: row.label, count: row[field] }));
		return () => {
			setByLabel(codesIssued, 'purpose', column(codes, 'issued'));
			setByLabel(codesConfirmed, 'purpose', column(codes, 'confirmed'));
			setByLabel(codesExpiredUnused, 'purpose', column(codes, 'expired'));
			setByLabel(codesPending, 'purpose', column(codes, 'pending'));
			setByLabel(outboxMessages, 'status', outbox);
			setByLabel(outboxDeliveryFailures, 'status', column(outbox, 'failures'));
			setByLabel(outboxMessagesWithError, 'status', column(outbox, 'erroring'));
		};
	});
}
