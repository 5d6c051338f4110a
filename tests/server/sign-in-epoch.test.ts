import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
	Kysely,
	KyselyPlugin,
	PluginTransformQueryArgs,
	PluginTransformResultArgs,
	QueryResult,
	RootOperationNode,
	UnknownRow
} from 'kysely';
import { issueSecureAccountLink } from '../../src/lib/server/accounts/secure-account';
import type { Database } from '../../src/lib/server/db/schema';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as changePassword } from '../../src/routes/api/v1/account/password/+server';
import { POST as registerPasskeyOptions } from '../../src/routes/api/v1/account/two-factor/passkeys/options/+server';
import { POST as registerPasskey } from '../../src/routes/api/v1/account/two-factor/passkeys/+server';
import { POST as secure } from '../../src/routes/api/v1/secure-account/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { POST as passkeyOptions } from '../../src/routes/api/v1/sessions/passkey/options/+server';
import { POST as passkeySignIn } from '../../src/routes/api/v1/sessions/passkey/+server';
import { POST as secondFactor } from '../../src/routes/api/v1/sessions/second-factor/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, type TestApp } from '../support/app-context';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { PASSWORD, signedInMember } from '../support/signed-in';
import { appCode, softAuthenticator } from '../support/two-step';
import { setUpTotp } from '../support/totp-setup';

/**
 * Rules §7a, the credential epoch: a remedy (password change, "this wasn't me", a freeze) that
 * lands after a sign-in took its proof (read the account and its password hash, deleted its
 * pending row, checked a passkey) and before its session (or pending sign-in) is written leaves no
 * session. The remedy is made to run exactly there: a plugin arms it after the proof's query, and
 * it runs to completion just before the sign-in's next write of a session or a pending sign-in
 * (its transaction, or the bare insert the code before the epoch did).
 */
const NEW_PASSWORD = 'an entirely new long sentence';
const ORIGIN = 'https://asc.example';
let address = 0;
const nextAddress = () => `1.0.11.${(address++ % 250) + 1}`;
type Options = { challenge: string; rp: { id?: string }; rpId?: string };

function tableOf(node: RootOperationNode): string | undefined {
	const query = node as unknown as {
		from?: { froms?: { table?: { identifier?: { name?: string } } }[] };
		into?: { table?: { identifier?: { name?: string } } };
		table?: { table?: { identifier?: { name?: string } } };
	};
	return (
		query.from?.froms?.[0]?.table?.identifier?.name ??
		query.into?.table?.identifier?.name ??
		query.table?.table?.identifier?.name
	);
}

/**
 * `db` whose next write of a session or pending sign-in, once the first `kind` query on `table`
 * has run (and changed a row, unless a select), first waits for `remedy` to finish.
 */
function remedyInTheGap(
	db: Kysely<Database>,
	kind: 'SelectQueryNode' | 'DeleteQueryNode' | 'UpdateQueryNode',
	table: string,
	remedy: () => Promise<void>
): { db: Kysely<Database>; ran: () => boolean } {
	const watched = new Set<string>();
	let armed = false;
	let ran = false;
	const runRemedy = async () => {
		if (!armed || ran) return;
		ran = true;
		await remedy();
	};
	const plugin: KyselyPlugin = {
		transformQuery({ node, queryId }: PluginTransformQueryArgs) {
			if (node.kind === kind && tableOf(node) === table) watched.add(queryId.queryId);
			return node;
		},
		async transformResult({ result, queryId }: PluginTransformResultArgs) {
			if (watched.has(queryId.queryId)) {
				const changed = kind === 'SelectQueryNode' || Number(result.numAffectedRows ?? 0n) > 0;
				if (changed) armed = true;
			}
			return result as QueryResult<UnknownRow>;
		}
	};
	const base = db.withPlugin(plugin);
	// Kysely keeps its state in private fields: every other member is the target's own, bound.
	const own = (target: object, prop: string | symbol): unknown => {
		const value = Reflect.get(target, prop, target) as unknown;
		return typeof value === 'function'
			? (value as (...a: unknown[]) => unknown).bind(target)
			: value;
	};
	const raced = new Proxy(base, {
		get(target, prop) {
			if (prop === 'transaction')
				return () => {
					const builder = target.transaction();
					return {
						execute: async <T>(fn: (trx: Kysely<Database>) => Promise<T>) => {
							await runRemedy();
							return builder.execute(fn);
						}
					};
				};
			if (prop === 'insertInto')
				return (into: keyof Database) => {
					const insert = target.insertInto(into);
					if (into !== 'sessions' && into !== 'pending_sign_ins') return insert;
					return new Proxy(insert, {
						get(ins, p) {
							if (p !== 'values') return own(ins, p);
							return (values: never) => {
								const withValues = ins.values(values);
								return new Proxy(withValues, {
									get(w, q) {
										if (q !== 'execute') return own(w, q);
										return async () => {
											await runRemedy();
											return w.execute();
										};
									}
								});
							};
						}
					});
				};
			return own(target, prop);
		}
	});
	return { db: raced, ran: () => ran };
}

describe.each(testDatabases)('§7a the credential epoch on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	beforeAll(async () => ({ database, app } = await openTestApp(open, { env: { ORIGIN } })));
	afterAll(() => database.dispose());

	const me = (jar: CookieJar) => callEndpoint(account, app, { method: 'GET', jar });
	const errorOf = async (res: Response) => [res.status, (await res.json()).error?.code];
	const sessionsOf = async (id: string) =>
		(await database.db.selectFrom('sessions').select('id').where('account_id', '=', id).execute())
			.length;

	const signedIn = async (id: string) =>
		(
			await database.db
				.selectFrom('audit_events')
				.select('id')
				.where('action', '=', 'session.signed_in')
				.where('subject_id', '=', id)
				.execute()
		).length;

	async function owner(withTotp: boolean) {
		const member = await signedInMember(app, 'epoch', {
			joinedNow: true,
			clientAddress: nextAddress()
		});
		const secret = withTotp ? (await setUpTotp(app, member.jar)).secret : '';
		return { ...member, secret };
	}
	type Owner = Awaited<ReturnType<typeof owner>>;

	const changeOwnersPassword = (person: Owner) => async () => {
		const res = await callEndpoint(changePassword, app, {
			json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
			jar: person.jar
		});
		expect(res.status).toBe(204);
	};
	const thisWasntMe = (person: Owner) => async () => {
		const link = await issueSecureAccountLink(app, person.id, ORIGIN);
		const token = new URL(link).searchParams.get('token')!;
		const res = await callEndpoint(secure, app, { json: { token }, jar: new Map() });
		expect(res.status).toBe(200);
	};
	/** A freeze alone (§7b), without ending anything: the epoch claim refuses a frozen account. */
	const bareFreeze = (person: Owner) => async () => {
		await database.db
			.updateTable('accounts')
			.set({ frozen_at: app.clock.now().getTime() })
			.where('id', '=', person.id)
			.execute();
	};

	it('a password sign-in whose password was checked before the owner changed it starts no session: invalid_credentials', async () => {
		const person = await owner(false);
		const raced = remedyInTheGap(
			app.db,
			'SelectQueryNode',
			'account_devices',
			changeOwnersPassword(person)
		);
		const intruder: CookieJar = new Map();
		const res = await callEndpoint(
			signIn,
			{ ...app, db: raced.db },
			{
				json: { identifier: person.email, password: PASSWORD },
				jar: intruder,
				clientAddress: nextAddress()
			}
		);
		expect(raced.ran()).toBe(true);
		expect(await errorOf(res)).toEqual([401, 'invalid_credentials']);
		expect(intruder.has('session')).toBe(false);
		expect((await me(intruder)).status).toBe(401);
		expect(await sessionsOf(person.id)).toBe(1); // the owner's own, kept by the change
	});

	it('a password step (two-step on) checked before "this wasn\'t me" writes no pending sign-in', async () => {
		const person = await owner(true);
		const raced = remedyInTheGap(app.db, 'SelectQueryNode', 'account_devices', thisWasntMe(person));
		const intruder: CookieJar = new Map();
		const res = await callEndpoint(
			signIn,
			{ ...app, db: raced.db },
			{
				json: { identifier: person.email, password: PASSWORD },
				jar: intruder,
				clientAddress: nextAddress()
			}
		);
		expect(raced.ran()).toBe(true);
		expect(await errorOf(res)).toEqual([401, 'invalid_credentials']);
		expect(intruder.has('pending_sign_in')).toBe(false);
		const left = await database.db
			.selectFrom('pending_sign_ins')
			.select('id')
			.where('account_id', '=', person.id)
			.execute();
		expect(left).toEqual([]);
	});

	const inTheGap: [string, (person: Owner) => () => Promise<void>, [number, string]][] = [
		['"this wasn\'t me"', thisWasntMe, [401, 'second_factor_expired']],
		['a password change', changeOwnersPassword, [401, 'second_factor_expired']],
		['a freeze', bareFreeze, [401, 'second_factor_expired']]
	];

	it.each(inTheGap)(
		'a second step whose pending row was claimed just before %s starts no session',
		async (_name, remedy, answer) => {
			const person = await owner(true);
			const intruder: CookieJar = new Map();
			const first = await callEndpoint(signIn, app, {
				json: { identifier: person.email, password: PASSWORD },
				jar: intruder,
				clientAddress: nextAddress()
			});
			expect(first.status).toBe(202);
			const raced = remedyInTheGap(app.db, 'DeleteQueryNode', 'pending_sign_ins', remedy(person));
			const res = await callEndpoint(
				secondFactor,
				{ ...app, db: raced.db },
				{
					json: { code: appCode(person.secret, app.clock) },
					jar: intruder,
					clientAddress: nextAddress()
				}
			);
			expect(raced.ran()).toBe(true);
			expect(await errorOf(res)).toEqual(answer);
			expect(intruder.has('session')).toBe(false);
			expect((await me(intruder)).status).toBe(401);
			// The owner's activity records no sign-in for it: only the owner's own.
			expect(await signedIn(person.id)).toBe(1);
		}
	);

	it.each([
		['"this wasn\'t me"', thisWasntMe],
		['a freeze', bareFreeze]
	] as const)(
		'a passkey as the whole sign-in, checked just before %s, starts no session: passkey_invalid',
		async (_name, remedy) => {
			const person = await owner(false);
			const authenticator = softAuthenticator();
			const options = await callEndpoint(registerPasskeyOptions, app, {
				json: { currentPassword: PASSWORD },
				jar: person.jar
			});
			const registration = authenticator.register((await options.json()) as Options, ORIGIN);
			const added = await callEndpoint(registerPasskey, app, {
				json: { response: registration, name: 'Key' },
				jar: person.jar
			});
			expect(added.status).toBe(201);
			const intruder: CookieJar = new Map();
			const opts = await callEndpoint(passkeyOptions, app, { json: {}, jar: intruder });
			const response = authenticator.assert((await opts.json()) as Options, ORIGIN);
			// The remedy lands after the assertion was verified and its counter taken.
			const raced = remedyInTheGap(app.db, 'UpdateQueryNode', 'passkeys', remedy(person));
			const res = await callEndpoint(
				passkeySignIn,
				{ ...app, db: raced.db },
				{
					json: { response },
					jar: intruder
				}
			);
			expect(raced.ran()).toBe(true);
			expect(await errorOf(res)).toEqual([400, 'passkey_invalid']);
			expect((await me(intruder)).status).toBe(401);
		}
	);

	it('live: 40 sign-ins with the old password sent while the owner changes it leave no session alive', async () => {
		const person = await owner(false);
		const jars: CookieJar[] = [];
		const runs: Promise<unknown>[] = [];
		for (let attempt = 0; attempt < 40; attempt++) {
			const jar: CookieJar = new Map();
			jars.push(jar);
			runs.push(
				callEndpoint(signIn, app, {
					json: { identifier: person.email, password: PASSWORD },
					jar,
					clientAddress: nextAddress()
				})
			);
			if (attempt === 10) runs.push(changeOwnersPassword(person)());
		}
		await Promise.all(runs);
		let alive = 0;
		for (const jar of jars) if (jar.has('session') && (await me(jar)).status === 200) alive += 1;
		expect(alive).toBe(0);
		// Only the owner's own browser is still signed in.
		expect(await sessionsOf(person.id)).toBe(1);
		expect((await me(person.jar)).status).toBe(200);
	}, 60_000);

	it('an account starts at epoch 0 and signs in; a remedy (password change) moves the epoch on', async () => {
		const person = await owner(false);
		expect(await sessionsOf(person.id)).toBe(1);
		const row = await database.db
			.selectFrom('accounts')
			.select('session_epoch')
			.where('id', '=', person.id)
			.executeTakeFirstOrThrow();
		expect(row.session_epoch).toBe(0);
		await changeOwnersPassword(person)();
		const after = await database.db
			.selectFrom('accounts')
			.select('session_epoch')
			.where('id', '=', person.id)
			.executeTakeFirstOrThrow();
		expect(after.session_epoch).toBe(1);
	});
});
