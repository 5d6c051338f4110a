import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Pwned Passwords range API (https://haveibeenpwned.com/API/v3#PwnedPasswords) for R5's
 * breached-password tests: `GET /range/{5 hex}` answers `SUFFIX:COUNT` lines for the passwords
 * it was given, padded with `:0` decoys. `mode` makes it fail: a 503, nonsense, or no answer;
 * a 302 to `redirectTo`; a right range padded to `HUGE_BYTES` (sent at once), or padding that
 * never ends (64 KiB every 10 ms).
 */
export type RangeMode = 'ok' | 'down' | 'garbage' | 'hang' | 'redirect' | 'huge' | 'endless';

/** The size of a `huge` answer: twice the 1 MiB a range answer may take. */
export const HUGE_BYTES = 2 * 1024 * 1024;
const PADDING_LINE = `${'0'.repeat(35)}:0\r\n`;

export interface RangeServer {
	url: string;
	mode: RangeMode;
	/** Where `redirect` sends the client (its path kept). */
	redirectTo: string;
	requests: { path: string; headers: IncomingHttpHeaders }[];
	close(): Promise<void>;
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex').toUpperCase();

export async function startRangeServer(
	breached: Record<string, number>,
	decoys: string[] = []
): Promise<RangeServer> {
	const entries = [
		...Object.entries(breached).map(([password, count]) => [sha1(password), count] as const),
		...decoys.map((password) => [sha1(password), 0] as const)
	];
	const state: RangeServer = {
		url: '',
		mode: 'ok',
		redirectTo: '',
		requests: [],
		close: async () => {}
	};
	const server = createServer((req, res) => {
		state.requests.push({ path: req.url ?? '', headers: req.headers });
		if (state.mode === 'hang') return; // never answers: the caller's timeout must end it
		if (state.mode === 'down') return void res.writeHead(503).end('Service Unavailable');
		if (state.mode === 'garbage')
			return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
		if (state.mode === 'redirect')
			return void res.writeHead(302, { location: state.redirectTo + (req.url ?? '') }).end();
		if (state.mode === 'endless') {
			res.writeHead(200, { 'content-type': 'text/plain' });
			const chunk = PADDING_LINE.repeat(Math.ceil(65_536 / PADDING_LINE.length));
			const timer = setInterval(() => res.write(chunk), 10);
			res.on('close', () => clearInterval(timer));
			return;
		}
		const prefix = /^\/range\/([0-9A-F]{5})$/.exec(req.url ?? '')?.[1];
		if (!prefix) return void res.writeHead(400).end('The hash prefix was not in a valid format');
		const lines = entries
			.filter(([hash]) => hash.startsWith(prefix))
			.map(([hash, count]) => `${hash.slice(5)}:${count}`);
		lines.push('0'.repeat(35) + ':0', `${'A'.repeat(34)}1:12`);
		const body = lines.join('\r\n');
		if (state.mode === 'huge') {
			// Padding first, the real lines last: only a reader of the whole body finds them.
			const padding = PADDING_LINE.repeat(Math.ceil(HUGE_BYTES / PADDING_LINE.length));
			return void res.writeHead(200, { 'content-type': 'text/plain' }).end(padding + body);
		}
		res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	state.close = () =>
		new Promise<void>((resolve) => {
			server.closeAllConnections();
			server.close(() => resolve());
		});
	return state;
}
