import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as account } from '../../src/routes/api/v1/account/+server';
import { POST as requestReset } from '../../src/routes/api/v1/password-resets/+server';
import { POST as confirmReset } from '../../src/routes/api/v1/password-resets/confirm/+server';
import { POST as signIn } from '../../src/routes/api/v1/sessions/+server';
import { testDatabases, type TestDatabase } from '../support/databases';
import { openTestApp, testAppContext, type TestApp } from '../support/app-context';
import { latestCode, latestMessage } from '../support/codes';
import { revokePendingCodes } from '../../src/lib/server/messaging';
import { load as resetPageLoad } from '../../src/routes/reset-password/+page.server';
import { callEndpoint, type CookieJar } from '../support/endpoints';
import { insertAccount, uniqueEmail } from '../support/factories';
import { insertMember, PASSWORD, passwordHashOf } from '../support/signed-in';

const NEW_PASSWORD = 'another calm and long sentence';

describe.each(testDatabases)('R18 forgot password on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	beforeAll(async () => ({ database, app } = await openTestApp(open)));
	afterAll(() => database.dispose());

	const member = async () => (await insertMember(app, 'reset')).email;

	it('R18: code → new password → every session revoked, owner told, not signed in', async () => {
		const email = await member();
		const jar: CookieJar = new Map();
		await callEndpoint(signIn, app, { json: { identifier: email, password: PASSWORD }, jar });
		expect((await callEndpoint(requestReset, app, { json: { identifier: email } })).status).toBe(
			202
		);
		const code = await latestCode(database.db, email);
		const resetJar: CookieJar = new Map();
		const done = await callEndpoint(confirmReset, app, {
			json: { identifier: email, code, newPassword: NEW_PASSWORD },
			jar: resetJar
		});
		expect(done.status).toBe(204);
		expect(resetJar.has('session')).toBe(false);
		expect((await callEndpoint(account, app, { method: 'GET', jar })).status).toBe(401);
		const notice = await database.db
			.selectFrom('outbox')
			.select('purpose')
			.where('recipient', '=', email)
			.orderBy('created_at', 'desc')
			.executeTakeFirstOrThrow();
		expect(notice.purpose).toBe('password_reset_done');
		expect(
			(await callEndpoint(signIn, app, { json: { identifier: email, password: PASSWORD } })).status
		).toBe(401);
		expect(
			(await callEndpoint(signIn, app, { json: { identifier: email, password: NEW_PASSWORD } }))
				.status
		).toBe(201);
	});

	it('R5/R18: a weak new password is refused before the code is used', async () => {
		const email = await member();
		await callEndpoint(requestReset, app, { json: { identifier: email } });
		const code = await latestCode(database.db, email);
		const weak = await callEndpoint(confirmReset, app, {
			json: { identifier: email, code, newPassword: 'password1' }
		});
		expect((await weak.json()).error.code).toBe('password_too_common');
		expect(
			(
				await callEndpoint(confirmReset, app, {
					json: { identifier: email, code, newPassword: NEW_PASSWORD }
				})
			).status
		).toBe(204);
	});

	it('R6/R18: an expired code says so', async () => {
		const email = await member();
		await callEndpoint(requestReset, app, { json: { identifier: email } });
		const code = await latestCode(database.db, email);
		app.clock.advance(5 * 60_000);
		const res = await callEndpoint(confirmReset, app, {
			json: { identifier: email, code, newPassword: NEW_PASSWORD }
		});
		expect([res.status, (await res.json()).error.code]).toEqual([410, 'code_expired']);
	});

	it('R18: until a valid code, registered and unregistered identifiers get identical answers', async () => {
		const known = await member();
		const unknown = uniqueEmail('reset');
		const answers = async (identifier: string) => {
			// A browser with its device cookie, behind a proxy that names requests (no random cookie or id in the answers).
			const jar: CookieJar = new Map([['device', 'abcdefghijklmnopqrstuvwxyz234567']]);
			const headers = { 'x-request-id': 'r18' };
			const first = await callEndpoint(requestReset, app, { json: { identifier }, jar, headers });
			const again = await callEndpoint(requestReset, app, { json: { identifier }, jar, headers });
			const wrong = await callEndpoint(confirmReset, app, {
				json: { identifier, code: '000000', newPassword: NEW_PASSWORD },
				jar,
				headers
			});
			return Promise.all(
				[first, again, wrong].map(async (response) => ({
					status: response.status,
					headers: [...response.headers].filter(([name]) => name !== 'date'),
					body: await response.text(),
					cookies: [...jar.keys()].sort()
				}))
			);
		};
		const [forKnown, forUnknown] = [await answers(known), await answers(unknown)];
		expect(forKnown.map((answer) => answer.status)).toEqual([202, 429, 400]);
		expect(forUnknown).toEqual(forKnown);
		// A code row is kept for both (so the confirm step behaves alike); only the account gets a message.
		expect(
			await database.db.selectFrom('outbox').select('id').where('recipient', '=', unknown).execute()
		).toEqual([]);
	});

	it('R18/R15a: six wrong codes and then an expired one answer the same for registered and unregistered identifiers', async () => {
		const known = await member();
		const unknown = uniqueEmail('reset-ghost');
		const answers = async (identifier: string) => {
			const at = app.clock.now().getTime();
			expect((await callEndpoint(requestReset, app, { json: { identifier } })).status).toBe(202);
			const seen: string[] = [];
			for (const code of ['000001', '000002', '000003', '000004', '000005', '000006']) {
				const res = await callEndpoint(confirmReset, app, {
					json: { identifier, code, newPassword: NEW_PASSWORD }
				});
				seen.push(`${res.status} ${await res.text()}`);
			}
			app.clock.advance(61_000);
			expect((await callEndpoint(requestReset, app, { json: { identifier } })).status).toBe(202);
			app.clock.advance(5 * 60_000);
			const late = await callEndpoint(confirmReset, app, {
				json: { identifier, code: '000007', newPassword: NEW_PASSWORD }
			});
			seen.push(`${late.status} ${await late.text()}`);
			app.clock.set(new Date(at + 3_600_000));
			return seen;
		};
		const forKnown = await answers(known);
		expect(forKnown.map((answer) => answer.slice(0, 3))).toEqual([
			'400',
			'400',
			'400',
			'400',
			'400',
			'429',
			'410'
		]);
		expect(await answers(unknown)).toEqual(forKnown);
	});

	it('R18/R15a: a reset asked for both contacts of one account answers, on the first, as for two strangers (no link between an email and a phone)', async () => {
		// The account's email and phone, against two identifiers nobody registered.
		const email = uniqueEmail('reset-both');
		const phone = `+86139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
		await insertAccount(database.db, { email, phone, password_hash: await passwordHashOf() });
		const ghosts = [
			uniqueEmail('reset-ghost-a'),
			`+86137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`
		];
		const answers = async ([first, second]: string[]) => {
			const at = app.clock.now().getTime();
			for (const identifier of [first, second])
				expect((await callEndpoint(requestReset, app, { json: { identifier } })).status).toBe(202);
			const seen: string[] = [];
			for (const code of ['000001', '000002']) {
				const res = await callEndpoint(confirmReset, app, {
					json: { identifier: first, code, newPassword: NEW_PASSWORD }
				});
				seen.push(`${res.status} ${await res.text()}`);
			}
			app.clock.advance(5 * 60_000);
			const late = await callEndpoint(confirmReset, app, {
				json: { identifier: first, code: '000003', newPassword: NEW_PASSWORD }
			});
			seen.push(`${late.status} ${await late.text()}`);
			app.clock.set(new Date(at + 3_600_000));
			return seen;
		};
		const strangers = await answers(ghosts);
		expect(strangers.map((a) => a.slice(0, 3))).toEqual(['400', '400', '410']);
		expect(await answers([email, phone])).toEqual(strangers);
	});

	it('R6/R18: reset codes are capped per identifier per hour, the same for unknown identifiers', async () => {
		for (const identifier of [await member(), uniqueEmail('reset-ghost')]) {
			const statuses: number[] = [];
			for (let i = 0; i < 8; i++) {
				statuses.push(
					(
						await callEndpoint(requestReset, app, {
							json: { identifier },
							clientAddress: '198.51.100.8'
						})
					).status
				);
				app.clock.advance(61_000);
			}
			expect(statuses, identifier).toEqual([202, 202, 202, 202, 202, 202, 429, 429]);
			app.clock.advance(3_600_000);
		}
	});

	it('R6/R18: a stranger who spends the caps from their network does not lock the owner out of a reset', async () => {
		const email = await member();
		const stranger = '198.51.100.66';
		for (let i = 0; i < 6; i++) {
			await callEndpoint(requestReset, app, {
				json: { identifier: email },
				clientAddress: stranger
			});
			app.clock.advance(61_000);
		}
		expect(
			(
				await callEndpoint(requestReset, app, {
					json: { identifier: email },
					clientAddress: stranger
				})
			).status
		).toBe(429);
		expect(
			(
				await callEndpoint(requestReset, app, {
					json: { identifier: email },
					clientAddress: '1.0.1.77'
				})
			).status
		).toBe(202);
		app.clock.advance(3_600_000);
	});

	it('R6/R18: code guesses on one identifier are capped per hour across every code it is sent', async () => {
		const email = await member();
		const answers: number[] = [];
		for (let round = 0; round < 3; round++) {
			expect(
				(
					await callEndpoint(requestReset, app, {
						json: { identifier: email },
						clientAddress: `198.51.100.${round + 20}`
					})
				).status
			).toBe(202);
			for (let i = 0; i < 4; i++) {
				const res = await callEndpoint(confirmReset, app, {
					json: { identifier: email, code: `00000${i}`, newPassword: NEW_PASSWORD },
					clientAddress: `203.0.113.${round * 4 + i}`
				});
				answers.push(res.status);
			}
			app.clock.advance(61_000);
		}
		// Two codes × 4 wrong guesses = 8, then the 9th and 10th; the 11th is refused whatever its code.
		expect(answers.slice(0, 10)).toEqual(Array(10).fill(400));
		expect(answers.slice(10)).toEqual([429, 429]);
		const code = await latestCode(database.db, email);
		const right = await callEndpoint(confirmReset, app, {
			json: { identifier: email, code, newPassword: NEW_PASSWORD }
		});
		expect([right.status, (await right.json()).error.code]).toEqual([429, 'too_many_attempts']);
		app.clock.advance(3_600_000);
	});

	it('R18: the request takes the same time for registered and unregistered identifiers', async () => {
		const fast = testAppContext(database);
		const known = await Promise.all(Array.from({ length: 40 }, () => member()));
		const times = { known: [] as number[], unknown: [] as number[] };
		const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
		for (let i = 0; i < 120; i++) {
			const pick = i % 2 === 0 ? 'known' : 'unknown';
			const identifier = pick === 'known' ? known[i % known.length]! : uniqueEmail('reset-ghost');
			fast.clock.advance(61_000);
			const startedAt = performance.now();
			const res = await callEndpoint(requestReset, fast, {
				json: { identifier },
				clientAddress: `10.9.${i % 250}.1`
			});
			times[pick].push(performance.now() - startedAt);
			expect(res.status).toBe(202);
		}
		const [mk, mu] = [median(times.known), median(times.unknown)];
		expect(Math.abs(mk - mu), `medians ${mk.toFixed(3)} vs ${mu.toFixed(3)} ms`).toBeLessThan(
			Math.max(0.3, 0.25 * Math.min(mk, mu))
		);
	});

	it('R18: the confirm step takes the same time for registered and unregistered identifiers', async () => {
		const fast = testAppContext(database);
		const known = await Promise.all(Array.from({ length: 30 }, () => member()));
		const unknown = Array.from({ length: 30 }, () => uniqueEmail('reset-ghost'));
		for (const [index, identifier] of [...known, ...unknown].entries()) {
			expect(
				(
					await callEndpoint(requestReset, fast, {
						json: { identifier },
						clientAddress: `10.7.${index}.1`
					})
				).status
			).toBe(202);
			fast.clock.advance(1);
		}
		const times = { known: [] as number[], unknown: [] as number[] };
		const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
		for (let i = 0; i < 60; i++) {
			const pick = i % 2 === 0 ? 'known' : 'unknown';
			const identifier = (pick === 'known' ? known : unknown)[Math.floor(i / 2)]!;
			const startedAt = performance.now();
			const res = await callEndpoint(confirmReset, fast, {
				json: { identifier, code: '000000', newPassword: NEW_PASSWORD },
				clientAddress: `10.8.${i}.2`
			});
			times[pick].push(performance.now() - startedAt);
			expect(res.status).toBe(400);
		}
		const [mk, mu] = [median(times.known), median(times.unknown)];
		expect(Math.abs(mk - mu), `medians ${mk.toFixed(3)} vs ${mu.toFixed(3)} ms`).toBeLessThan(
			Math.max(0.5, 0.25 * Math.min(mk, mu))
		);
	});
});

describe.each(testDatabases)('rules §7 (R18) the reset link on $name', ({ open }) => {
	let database: TestDatabase;
	let app: TestApp;
	let sequence = 0;
	/** A fresh client network per call, so the per-network caps of other tests never interfere. */
	const ip = () => `100.64.${Math.floor(++sequence / 250)}.${sequence % 250}`;
	beforeAll(
		async () =>
			({ database, app } = await openTestApp(open, { env: { ORIGIN: 'https://check.example' } }))
	);
	afterAll(() => database.dispose());

	const member = async () => (await insertMember(app, 'reset-link')).email;
	const ask = async (identifier: string, clientAddress = ip()) =>
		(await callEndpoint(requestReset, app, { json: { identifier }, clientAddress })).status;
	/** The link of the newest message to `email`, as the person opens it. */
	async function linkFor(email: string): Promise<{ url: URL; token: string }> {
		const { text } = await latestMessage(database.db, email);
		const href = /(\S+\/reset-password\?token=\S+)/.exec(text)?.[1];
		if (!href) throw new Error('no reset link in the message');
		const url = new URL(href);
		return { url, token: url.searchParams.get('token')! };
	}
	const byLink = async (token: string, newPassword = NEW_PASSWORD) => {
		const res = await callEndpoint(confirmReset, app, {
			json: { token, newPassword },
			clientAddress: ip()
		});
		return { status: res.status, body: res.status === 204 ? null : await res.json() };
	};
	const signsIn = async (email: string, password: string) =>
		(
			await callEndpoint(signIn, app, {
				json: { identifier: email, password },
				clientAddress: ip()
			})
		).status;
	const LINK_INVALID = {
		status: 400,
		body: {
			error: expect.objectContaining({
				code: 'link_invalid',
				fields: { token: expect.any(String) }
			})
		}
	};

	it('§7: the reset message carries the code and a link on ORIGIN, not the request Host; the link alone resets (204)', async () => {
		const email = await member();
		const res = await callEndpoint(requestReset, app, {
			json: { identifier: email },
			headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
			clientAddress: ip()
		});
		expect(res.status).toBe(202);
		const { text } = await latestMessage(database.db, email);
		expect(text).toContain(await latestCode(database.db, email));
		const { url, token } = await linkFor(email);
		expect(url.origin).toBe('https://check.example');
		expect(url.pathname).toBe('/reset-password');
		expect(text).not.toContain('evil.example');
		expect(await byLink(token)).toEqual({ status: 204, body: null });
		expect(await signsIn(email, PASSWORD)).toBe(401);
		expect(await signsIn(email, NEW_PASSWORD)).toBe(201);
	});

	it('§7: opening the link (GET /reset-password?token=…) changes nothing; the posted form uses it', async () => {
		const email = await member();
		await ask(email);
		const { token } = await linkFor(email);
		for (let i = 0; i < 3; i++) {
			const page = (await callEndpoint(resetPageLoad as never, app, {
				method: 'GET',
				path: `/reset-password?token=${encodeURIComponent(token)}`
			})) as { token: string };
			expect(page.token).toBe(token);
		}
		expect(await byLink(token)).toEqual({ status: 204, body: null });
	});

	it('§7: a link is single use, and the code dies with it (and the link with the code)', async () => {
		const email = await member();
		await ask(email);
		const { token } = await linkFor(email);
		const code = await latestCode(database.db, email);
		expect((await byLink(token)).status).toBe(204);
		expect(await byLink(token, 'yet another calm long sentence')).toEqual(LINK_INVALID);
		const late = await callEndpoint(confirmReset, app, {
			json: { identifier: email, code, newPassword: 'yet another calm long sentence' },
			clientAddress: ip()
		});
		expect((await late.json()).error.code).toBe('code_invalid');

		app.clock.advance(61_000);
		await ask(email);
		const second = await linkFor(email);
		const used = await callEndpoint(confirmReset, app, {
			json: {
				identifier: email,
				code: await latestCode(database.db, email),
				newPassword: NEW_PASSWORD
			},
			clientAddress: ip()
		});
		expect(used.status).toBe(204);
		expect(await byLink(second.token)).toEqual(LINK_INVALID);
	});

	it('§7: a link expires with its code after 5 minutes', async () => {
		const email = await member();
		await ask(email);
		const { token } = await linkFor(email);
		app.clock.advance(5 * 60_000);
		expect(await byLink(token)).toEqual(LINK_INVALID);
		expect(await signsIn(email, PASSWORD)).toBe(201);
	});

	it('§7: a newer code kills the older link; the newer link works', async () => {
		const email = await member();
		await ask(email);
		const first = await linkFor(email);
		app.clock.advance(61_000);
		await ask(email);
		const second = await linkFor(email);
		expect(second.token).not.toBe(first.token);
		expect(await byLink(first.token)).toEqual(LINK_INVALID);
		expect((await byLink(second.token)).status).toBe(204);
	});

	it('§7/R17: a contact change (its code revocation) kills the link', async () => {
		const email = await member();
		await ask(email);
		const { token } = await linkFor(email);
		const account = await database.db
			.selectFrom('accounts')
			.select('id')
			.where('email', '=', email)
			.executeTakeFirstOrThrow();
		await revokePendingCodes(app, { accountId: account.id, identifiers: [email] });
		expect(await byLink(token)).toEqual(LINK_INVALID);
	});

	it('§7: a garbage, forged or tampered token answers the one link_invalid answer', async () => {
		const email = await member();
		await ask(email);
		const { token } = await linkFor(email);
		const [id, mac] = token.split('.') as [string, string];
		const flipped = (mac[0] === 'a' ? 'b' : 'a') + mac.slice(1);
		const answers = await Promise.all(
			[
				'garbage',
				'',
				`${id}.${flipped}`,
				`00000000-0000-4000-8000-000000000000.${mac}`,
				`${id}.${mac.slice(0, 63)}`,
				token.toUpperCase()
			].map((t) => byLink(t))
		);
		for (const answer of answers) expect(answer).toEqual(LINK_INVALID);
		expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
		// None of them spent the link.
		expect((await byLink(token)).status).toBe(204);
	});

	it('§7: a weak new password is refused before the link is used', async () => {
		const email = await member();
		await ask(email);
		const { token } = await linkFor(email);
		expect((await byLink(token, 'password1')).body.error.code).toBe('password_too_common');
		expect((await byLink(token)).status).toBe(204);
	});

	it("§7/R6: a stranger's guesses spend the per-identifier cap and lock codes; the owner still resets by link", async () => {
		const email = await member();
		const stranger = () => `198.51.100.${(++sequence % 200) + 1}`;
		// Two codes the stranger asks for, five wrong guesses each: the hour's 10 are spent.
		for (let round = 0; round < 2; round++) {
			expect(await ask(email, stranger())).toBe(202);
			for (let i = 0; i < 5; i++)
				await callEndpoint(confirmReset, app, {
					json: { identifier: email, code: `00000${i}`, newPassword: NEW_PASSWORD },
					clientAddress: stranger()
				});
			app.clock.advance(61_000);
		}
		// The owner asks; the stranger's next guess is refused by the cap, and so is the owner's code.
		expect(await ask(email)).toBe(202);
		const code = await latestCode(database.db, email);
		const { token } = await linkFor(email);
		const guess = await callEndpoint(confirmReset, app, {
			json: {
				identifier: email,
				code: code === '123456' ? '654321' : '123456',
				newPassword: NEW_PASSWORD
			},
			clientAddress: stranger()
		});
		expect((await guess.json()).error.code).toBe('too_many_attempts');
		const owner = await callEndpoint(confirmReset, app, {
			json: { identifier: email, code, newPassword: NEW_PASSWORD },
			clientAddress: ip()
		});
		expect((await owner.json()).error.code).toBe('too_many_attempts');
		// The link is not a guess: the cap does not block it.
		expect(await byLink(token)).toEqual({ status: 204, body: null });
		expect(await signsIn(email, NEW_PASSWORD)).toBe(201);
		app.clock.advance(3_600_000);
	});

	it('§7/R6: five wrong guesses lock the code but not its link', async () => {
		const email = await member();
		await ask(email);
		const { token } = await linkFor(email);
		for (let i = 0; i < 6; i++)
			await callEndpoint(confirmReset, app, {
				json: { identifier: email, code: `10000${i}`, newPassword: NEW_PASSWORD },
				clientAddress: ip()
			});
		expect((await byLink(token)).status).toBe(204);
		app.clock.advance(3_600_000);
	});
});
