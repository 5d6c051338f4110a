import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	actions as registerPage,
	load as registerLoad
} from '../../src/routes/register/+page.server';
import {
	actions as forgotPage,
	load as forgotLoad
} from '../../src/routes/forgot-password/+page.server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { testAppContext } from '../support/app-context';
import { latestCode } from '../support/codes';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { uniqueEmail } from '../support/factories';

/**
 * Issue 26 (R6): a code step comes back on a plain GET from the browser's own cookies, never
 * sending a code; another browser, a used, locked or expired code, or a forged cookie ends it;
 * what was typed is sealed in the cookie, never readable in it.
 */
const PASSWORD = 'a long and quiet river';
const form = (fields: Record<string, string>) => ({
	body: new URLSearchParams(fields),
	headers: { 'content-type': 'application/x-www-form-urlencoded' }
});
type Step = { step?: string; identifier?: string; timing?: { expiresAt: string } };
type PageData = { resumed?: Step; typed?: { identifier: string; country: string } };

describe.each(testDatabases)('code steps resume on $name', ({ open }) => {
	let database: TestDatabase;
	let app: ReturnType<typeof testAppContext>;
	beforeAll(async () => {
		database = await open();
		app = testAppContext(database);
	});
	afterAll(() => database.dispose());

	const sent = async (to: string) =>
		(await database.db.selectFrom('outbox').select('id').where('recipient', '=', to).execute())
			.length;
	const getRegister = (jar: CookieJar) =>
		callEndpoint(registerLoad as never, app, { method: 'GET', path: '/register', jar }) as Promise<
			PageData & Record<string, unknown>
		>;
	const getForgot = (jar: CookieJar) =>
		callEndpoint(forgotLoad as never, app, {
			method: 'GET',
			path: '/forgot-password',
			jar
		}) as Promise<PageData & Record<string, unknown>>;

	async function startRegistration(typed: string, jar: CookieJar) {
		return (await callEndpoint(registerPage.start!, app, {
			path: '/register?/start',
			...form({ identifier: typed, password: PASSWORD, country: 'CN' }),
			jar
		})) as Step;
	}

	it('R6: a GET restores this browser’s registration step with its times, sends nothing, and shows what was typed', async () => {
		const email = uniqueEmail('resume');
		const typed = ` ${email.toUpperCase()} `;
		const jar: CookieJar = new Map();
		const started = await startRegistration(typed, jar);
		expect(started.step).toBe('code');
		expect(started.identifier).toBe(email.toUpperCase());
		expect(await sent(email)).toBe(1);
		// Sealed: the cookie never shows the address.
		expect(jar.get('code_step_register')).toMatch(/^v1\./);
		expect(jar.get('code_step_register')).not.toContain(email.split('@')[0]);

		app.clock.advance(30_000);
		const page = await getRegister(jar);
		expect(page.resumed).toMatchObject({
			step: 'code',
			identifier: email.toUpperCase(),
			timing: { expiresAt: started.timing!.expiresAt }
		});
		expect(await sent(email)).toBe(1);
	});

	it('R3: another browser, or this cookie with another browser’s registration token, resumes nothing', async () => {
		const email = uniqueEmail('resume-other');
		const jar: CookieJar = new Map();
		await startRegistration(email, jar);
		expect((await getRegister(new Map())).resumed).toBeUndefined();
		const transplanted: CookieJar = new Map([
			['code_step_register', jar.get('code_step_register')!]
		]);
		expect((await getRegister(transplanted)).resumed).toBeUndefined();
		const forged: CookieJar = new Map(jar);
		forged.set('code_step_register', `${jar.get('code_step_register')!.slice(0, -2)}AA`);
		expect((await getRegister(forged)).resumed).toBeUndefined();
	});

	it('R6: five wrong codes, or expiry, end the resume; the first step stays filled in', async () => {
		for (const end of ['locked', 'expired'] as const) {
			const email = uniqueEmail(`resume-${end}`);
			const jar: CookieJar = new Map();
			await startRegistration(email, jar);
			const code = await latestCode(database.db, email);
			if (end === 'locked') {
				const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
				for (let i = 0; i < 5; i++) {
					const answer = (await callEndpoint(registerPage.confirm!, app, {
						path: '/register?/confirm',
						...form({ identifier: email, country: 'CN', code: wrong }),
						jar
					})) as { data: { error: { attemptsLeft?: number } } };
					if (i < 4) expect(answer.data.error.attemptsLeft).toBe(4 - i);
				}
			} else app.clock.advance(5 * 60_000);
			const page = await getRegister(jar);
			expect(page.resumed).toBeUndefined();
			expect(page.typed).toEqual({ identifier: email, country: 'CN' });
		}
	});

	it('R6, R14: the check report’s "Enter your code" resumes without a new code; from a stranger it fills the first step', async () => {
		const email = uniqueEmail('resume-check');
		const jar: CookieJar = new Map();
		const started = await startRegistration(email, jar);
		app.clock.advance(61_000);
		const mine = (await callEndpoint(registerPage.resume!, app, {
			path: '/register?/resume',
			...form({ identifier: email, country: 'CN', continue: '1' }),
			jar
		})) as Step & { error?: unknown };
		expect(mine).toMatchObject({ step: 'code', timing: { expiresAt: started.timing!.expiresAt } });
		expect(mine.error).toBeUndefined();
		const stranger = (await callEndpoint(registerPage.resume!, app, {
			path: '/register?/resume',
			...form({ identifier: email, country: 'CN', continue: '1' }),
			jar: new Map()
		})) as Step & { notice?: string };
		expect(stranger).toMatchObject({ step: 'details', identifier: email, country: 'CN' });
		expect(stranger.notice).toMatch(/this browser/);
		expect(await sent(email)).toBe(1);
	});

	it('R6: "Wrong address? Change it" ends the resume and keeps what was typed', async () => {
		const email = uniqueEmail('resume-change');
		const jar: CookieJar = new Map();
		await startRegistration(email, jar);
		const changed = (await callEndpoint(registerPage.change!, app, {
			path: '/register?/change',
			...form({ identifier: email, country: 'CN' }),
			jar
		})) as Step;
		expect(changed).toMatchObject({ step: 'details', identifier: email });
		const page = await getRegister(jar);
		expect(page.resumed).toBeUndefined();
		expect(page.typed?.identifier).toBe(email);
	});

	it('R18: forgot password resumes alike for an unknown address, only in the browser that asked', async () => {
		const email = uniqueEmail('resume-forgot');
		const jar: CookieJar = new Map();
		const asked = (await callEndpoint(forgotPage.request!, app, {
			path: '/forgot-password?/request',
			...form({ identifier: email }),
			jar
		})) as Step;
		expect(asked.step).toBe('code');
		const page = await getForgot(jar);
		expect(page.resumed).toMatchObject({
			step: 'code',
			identifier: email,
			timing: { expiresAt: asked.timing!.expiresAt }
		});
		expect((await getForgot(new Map())).resumed).toBeUndefined();
		app.clock.advance(5 * 60_000);
		expect((await getForgot(jar)).resumed).toBeUndefined();
	});
});
