import type { Compilable, CompiledQuery } from 'kysely';
import type { Db } from './database';

/**
 * A query built and compiled once per database, then run with each call's values. Kysely builds
 * every query anew (an operation-node tree, frozen objects, a compiled SQL string): on the check's
 * hot path that was about a quarter of the CPU (docs/BENCHMARKS.md). The builder runs once with
 * placeholders in place of the values; each call puts its values where the placeholders landed
 * among the compiled parameters. Values are bound as parameters, never written into the SQL.
 *
 * The builder must pass each placeholder to Kysely as a value (`where(col, '=', p.x)`,
 * `values({ col: p.x })`) and never compute with it in JavaScript (`p.now + 1` would compile the
 * placeholder's text): arithmetic belongs in the SQL or in the caller, before the call.
 */
const PLACEHOLDER = Symbol('precompiled placeholder');
interface Placeholder {
	readonly [PLACEHOLDER]: string;
}

const isPlaceholder = (value: unknown): value is Placeholder =>
	typeof value === 'object' && value !== null && PLACEHOLDER in value;

interface Compiled<Row> {
	query: CompiledQuery<Row>;
	/** A parameter's placeholder name, or the constant the builder wrote itself. */
	slots: ({ name: string } | { constant: unknown })[];
}

export interface Precompiled<Values, Row> {
	execute(db: Db, values: Values): Promise<Row[]>;
	/** The first row, or undefined. */
	first(db: Db, values: Values): Promise<Row | undefined>;
}

export function precompiled<Values extends Record<string, unknown>, Row>(
	build: (db: Db, p: Values) => Compilable<Row>
): Precompiled<Values, Row> {
	// Per Kysely instance (its dialect compiles it): the process's database compiles it once; a
	// transaction, a new instance each time, compiles it again (correct, only not faster).
	const byDatabase = new WeakMap<Db, Compiled<Row>>();

	function compiled(db: Db): Compiled<Row> {
		let entry = byDatabase.get(db);
		if (entry) return entry;
		const placeholders = new Proxy(
			{},
			{ get: (_, name) => ({ [PLACEHOLDER]: String(name) }) }
		) as Values;
		const query = build(db, placeholders).compile();
		entry = {
			query,
			slots: query.parameters.map((value) =>
				isPlaceholder(value) ? { name: value[PLACEHOLDER] } : { constant: value }
			)
		};
		byDatabase.set(db, entry);
		return entry;
	}

	async function execute(db: Db, values: Values): Promise<Row[]> {
		const { query, slots } = compiled(db);
		const parameters = slots.map((slot) => {
			if ('constant' in slot) return slot.constant;
			if (!(slot.name in values)) throw new Error(`precompiled query: no value for ${slot.name}`);
			return values[slot.name];
		});
		const result = await db.executeQuery<Row>({ ...query, parameters });
		return result.rows;
	}

	return {
		execute,
		async first(db, values) {
			return (await execute(db, values))[0];
		}
	};
}
