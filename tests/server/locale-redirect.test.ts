import { isHttpError, isRedirect, type Cookies } from '@sveltejs/kit';
import { describe, expect, it } from 'vitest';
import { cookieName } from '../../src/lib/paraglide/runtime';
import { POST as chooseLocale } from '../../src/routes/locale/+server';

/**
 * The language switcher posts `returnTo` (the page the person was on) and is redirected there.
 * `Location` is read by the browser's URL parser, which drops tabs and newlines and treats `\`
 * as `/`: whatever we send must resolve to this origin.
 */
const ORIGIN = 'http://127.0.0.1:4300';

async function postLocale(body: BodyInit, headers: Record<string, string> = {}) {
	const url = new URL('/locale', ORIGIN);
	const jar = new Map<string, string>();
	const cookies = {
		set: (name: string, value: string) => void jar.set(name, value)
	} as unknown as Cookies;
	const event = {
		url,
		request: new Request(url, { method: 'POST', body, headers }),
		cookies
	} as unknown as Parameters<typeof chooseLocale>[0];
	try {
		return { answer: await chooseLocale(event), jar };
	} catch (thrown) {
		return { thrown, jar };
	}
}

async function locationFor(returnTo: string) {
	const { thrown, jar } = await postLocale(new URLSearchParams({ locale: 'zh-CN', returnTo }));
	if (!isRedirect(thrown)) throw new Error(`expected a redirect, got ${String(thrown)}`);
	expect(thrown.status).toBe(303);
	expect(jar.get(cookieName)).toBe('zh-CN');
	return thrown.location;
}

describe('/locale returns only to a path of this site', () => {
	it.each([
		['/\t/evil.example/'],
		['/\n/evil.example'],
		['/\r\n/evil.example'],
		['//evil.example'],
		['/\\evil.example'],
		['\\\\evil.example'],
		[' //evil.example'],
		['https://evil.example'],
		['javascript:alert(1)'],
		['/..//evil.example'],
		['/.//evil.example'],
		['/\u0000/evil.example']
	])('returnTo %j goes home, never to another host', async (returnTo) => {
		const location = await locationFor(returnTo);
		// How a browser reads the Location header (WHATWG URL parser, as in Chromium and Firefox).
		expect(new URL(location, `${ORIGIN}/locale`).origin).toBe(ORIGIN);
		expect(location).toBe('/');
	});

	it.each([
		['/register?x=1', '/register?x=1'],
		['/account#activity', '/account#activity'],
		// Percent-encoded, a tab is just a byte of the path: browsers stay on this host.
		['/%09/evil.example', '/%09/evil.example'],
		['/appeal/status?ref=A%20B', '/appeal/status?ref=A%20B'],
		[`${ORIGIN}/login`, '/login'],
		// With the base's own scheme and no "//", the URL parser reads a relative path, not a host.
		['http:evil.example', '/evil.example']
	])('returnTo %j is kept as %j', async (returnTo, expected) => {
		const location = await locationFor(returnTo);
		expect(location).toBe(expected);
		expect(new URL(location, `${ORIGIN}/locale`).origin).toBe(ORIGIN);
	});

	it('a malformed multipart body answers 400, not 500', async () => {
		const { thrown, answer } = await postLocale('--x\r\nnot a part', {
			'content-type': 'multipart/form-data; boundary=x'
		});
		expect(answer).toBeUndefined();
		expect(isHttpError(thrown, 400)).toBe(true);
	});
});
