import { expect } from 'vitest';
import { hashPassword } from '../../src/lib/server/accounts/passwords';
import type { NewAccount } from '../../src/lib/server/db/schema';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import type { TestApp } from './app-context';
import { callEndpoint, type CookieJar } from './endpoints';
import { insertAccount, uniqueEmail } from './factories';

/** The password the members of the tests sign in with (R5: long enough, not breached). */
export const PASSWORD = 'a long and quiet river';

const hashes = new Map<string, Promise<string>>();
/** The stored hash of `password`, made once per test file: argon2id is slow on purpose. */
export function passwordHashOf(password = PASSWORD): Promise<string> {
	let hash = hashes.get(password);
	if (!hash) hashes.set(password, (hash = hashPassword(password)));
	return hash;
}

export interface MemberOptions {
	/** Their password (PASSWORD when not given). */
	password?: string;
	/** Created at the app clock's now; otherwise at the factory's fixed date, long ago. */
	joinedNow?: boolean;
	/** Other columns of the account row. */
	account?: Partial<NewAccount>;
}

/** An account that signs in with a password, its email named by `prefix`. */
export async function insertMember(
	app: TestApp,
	prefix: string,
	options: MemberOptions = {}
): Promise<{ email: string; id: string }> {
	const email = uniqueEmail(prefix);
	const row = await insertAccount(app.database.db, {
		email,
		password_hash: await passwordHashOf(options.password),
		...(options.joinedNow ? { created_at: app.clock.now().getTime() } : {}),
		...options.account
	});
	return { email, id: row.id };
}

export interface BrowserOptions {
	password?: string;
	clientAddress?: string;
	userAgent?: string;
	/** The browser's cookie jar (a new one when not given). */
	jar?: CookieJar;
}

/** A browser that signed in as `identifier` with the password step alone (201): its cookie jar. */
export async function signedInBrowser(
	app: TestApp,
	identifier: string,
	options: BrowserOptions = {}
): Promise<CookieJar> {
	const jar = options.jar ?? new Map();
	const res = await callEndpoint(signIn, app, {
		json: { identifier, password: options.password ?? PASSWORD },
		jar,
		clientAddress: options.clientAddress,
		...(options.userAgent ? { headers: { 'user-agent': options.userAgent } } : {})
	});
	expect(res.status).toBe(201);
	return jar;
}

/** A member (see `insertMember`) signed in on one browser: their email, id and cookie jar. */
export async function signedInMember(
	app: TestApp,
	prefix: string,
	options: MemberOptions & Omit<BrowserOptions, 'password'> = {}
): Promise<{ email: string; id: string; jar: CookieJar }> {
	const member = await insertMember(app, prefix, options);
	const jar = await signedInBrowser(app, member.email, options);
	return { ...member, jar };
}
