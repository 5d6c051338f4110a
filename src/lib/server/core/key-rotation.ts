import type { Ctx } from './context';

/**
 * Every column that holds a value sealed with the key ring, with the purpose it was sealed for
 * and the column its seal is bound to. `rotateSealed` re-seals what an older key sealed, so the
 * older key can then leave the ring (docs/DATA.md lists the same columns); the key check
 * (key-check.ts) reads which keys they were sealed with.
 */
export const SEALED_COLUMNS = [
	{ table: 'outbox', column: 'payload', purpose: 'outbox', context: 'id' },
	{ table: 'agents', column: 'totp_key', purpose: 'totp', context: 'id' },
	{ table: 'account_totp', column: 'secret', purpose: 'account-totp', context: 'account_id' },
	// The documents' own data keys; the documents themselves never need re-encrypting.
	{
		table: 'appeal_document_contents',
		column: 'wrapped_key',
		purpose: 'document',
		context: 'document_id'
	}
] as const;

export interface RotationResult {
	resealed: Record<string, number>;
	/** Values no key on the ring opens (their key was removed too early): left as they are. */
	unreadable: Record<string, number>;
}

/** Re-seals, under the newest key, every sealed value an older key sealed. Idempotent. */
export async function rotateSealed(ctx: Ctx, batch = 500): Promise<RotationResult> {
	const { db, keys } = ctx;
	const result: RotationResult = { resealed: {}, unreadable: {} };
	for (const target of SEALED_COLUMNS) {
		const name = `${target.table}.${target.column}`;
		result.resealed[name] = 0;
		result.unreadable[name] = 0;
		let after = '';
		for (;;) {
			// Dynamic table and column names come only from the constant list above.
			const rows = (await db
				.selectFrom(target.table as 'outbox')
				.select([`${target.context} as ctx` as 'id', `${target.column} as sealed` as 'id'])
				.where(target.column as 'id', 'is not', null)
				.where(target.context as 'id', '>', after)
				.orderBy(target.context as 'id')
				.limit(batch)
				.execute()) as unknown as { ctx: string; sealed: string }[];
			if (rows.length === 0) break;
			for (const row of rows) {
				if (keys.isCurrent(row.sealed)) continue;
				let plain: Buffer;
				try {
					plain = keys.open(target.purpose, row.ctx, row.sealed);
				} catch {
					result.unreadable[name] += 1;
					continue;
				}
				const updated = await db
					.updateTable(target.table as 'outbox')
					.set({ [target.column]: keys.seal(target.purpose, row.ctx, plain) } as never)
					.where(target.context as 'id', '=', row.ctx)
					// Only if nobody changed it meanwhile (a delivery erasing a payload, a new TOTP key).
					.where(target.column as 'id', '=', row.sealed)
					.executeTakeFirst();
				if (updated.numUpdatedRows > 0n) result.resealed[name] += 1;
			}
			after = rows[rows.length - 1]!.ctx;
		}
	}
	return result;
}
