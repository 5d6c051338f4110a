import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeCheckEvent } from '../../src/lib/server/check/events';
import { WRITE_BEHIND_WAIT_MS } from '../../src/lib/server/db/write-behind';
import { testAppContext } from '../support/app-context';
import { testDatabases, type TestDatabase } from '../support/databases';

/**
 * R15: a check's row in `check_events` is written behind: no check waits for it; the rows of
 * WRITE_BEHIND_WAIT_MS share one insert; a failed insert is retried and counted; closing stores
 * the last batch.
 */
describe.each(testDatabases)('check events on $name', ({ open }) => {
	let database: TestDatabase;
	beforeAll(async () => {
		database = await open();
	});
	afterAll(() => database.dispose());

	const count = async (outcome: string) =>
		Number(
			(
				await database.db
					.selectFrom('check_events')
					.select((eb) => eb.fn.countAll<number | string>().as('n'))
					.where('outcome', '=', outcome)
					.executeTakeFirstOrThrow()
			).n
		);
	const row = (i: number, outcome: string) => ({
		at: 1_800_000_000_000 + i,
		ip_key: `ip-${i % 3}`,
		identifier_key: `id-${i}`,
		outcome
	});
	const failures = async (ctx: ReturnType<typeof testAppContext>) =>
		(await ctx.metrics.writeBehindFailures.get()).values.find(
			(v) => v.labels.table === 'check_events'
		)?.value;

	it('R15: 50 checks queue their rows without waiting; one insert stores them after the batch wait', async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		try {
			const ctx = testAppContext(database);
			const inserts = vi.spyOn(database.db, 'insertInto');
			for (let i = 0; i < 50; i++) writeCheckEvent(ctx, row(i, 'batched'));
			expect(inserts).not.toHaveBeenCalled();
			expect(await count('batched')).toBe(0);
			await vi.advanceTimersByTimeAsync(WRITE_BEHIND_WAIT_MS);
			// The write the timer started; a flush waits for it and finds nothing more to write.
			await ctx.writeBehind.flush();
			expect(inserts).toHaveBeenCalledTimes(1);
			inserts.mockRestore();
			expect(await count('batched')).toBe(50);
		} finally {
			vi.useRealTimers();
		}
	});

	it('R15: a batch that fails to write is counted and written again with the next', async () => {
		const ctx = testAppContext(database);
		writeCheckEvent(ctx, row(1, 'retried'));
		writeCheckEvent(ctx, row(2, 'retried'));
		const inserts = vi.spyOn(database.db, 'insertInto').mockImplementationOnce(() => {
			throw new Error('database is locked');
		});
		await ctx.writeBehind.flush();
		expect(await count('retried')).toBe(0);
		expect(await failures(ctx)).toBe(1);
		writeCheckEvent(ctx, row(3, 'retried'));
		await ctx.writeBehind.flush();
		inserts.mockRestore();
		expect(await count('retried')).toBe(3);
		expect(await failures(ctx)).toBe(1);
	});

	it('R15: closing the context (shutdown) stores the last batch', async () => {
		const ctx = testAppContext(database);
		writeCheckEvent(ctx, row(1, 'at-close'));
		await ctx.close();
		expect(await count('at-close')).toBe(1);
	});
});
