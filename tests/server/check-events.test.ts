import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeCheckEvent } from '../../src/lib/server/check/events';
import { testDatabases, type TestDatabase } from '../support/databases';

/** R15: the checks of one event-loop turn share one insert, and each waits for it. */
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

	it('50 checks at once: one insert, and every one of them answers only once its row is stored', async () => {
		const inserts = vi.spyOn(database.db, 'insertInto');
		const row = (i: number) => ({
			at: 1_800_000_000_000 + i,
			ip_key: `ip-${i % 3}`,
			identifier_key: `id-${i}`,
			outcome: 'batched'
		});
		const seen: number[] = [];
		await Promise.all(
			Array.from({ length: 50 }, async (_, i) => {
				await writeCheckEvent(database.db, row(i));
				seen.push(await count('batched'));
			})
		);
		expect(inserts).toHaveBeenCalledTimes(1);
		expect(seen.every((n) => n === 50)).toBe(true);
		inserts.mockRestore();
		// The next turn starts a new batch.
		await writeCheckEvent(database.db, row(50));
		expect(await count('batched')).toBe(51);
	});

	it('a batch that cannot be stored fails every check in it, and stores none of its rows', async () => {
		const good = { at: 1, ip_key: 'ip', identifier_key: 'id', outcome: 'doomed' };
		const bad = { ...good, outcome: null as unknown as string };
		const results = await Promise.allSettled([
			writeCheckEvent(database.db, good),
			writeCheckEvent(database.db, bad)
		]);
		expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
		expect(await count('doomed')).toBe(0);
	});
});
