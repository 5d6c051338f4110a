import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Pwned Passwords range API (https://haveibeenpwned.com/API/v3#PwnedPasswords) for R5's
 * breached-password tests: `GET /range/{5 hex}` answers `SUFFIX:COUNT` lines for the passwords
 * it was given, padded with `:0` decoys. `mode` makes it fail: a 503, nonsense, or no answer.
 */
export type RangeMode = 'ok' | 'down' | 'garbage' | 'hang';

export interface RangeServer {
	url: string;
	mode: RangeMode;
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
		requests: [],
		close: async () => {}
	};
	const server = createServer((req, res) => {
		state.requests.push({ path: req.url ?? '', headers: req.headers });
		if (state.mode === 'hang') return; // never answers: the caller's timeout must end it
		if (state.mode === 'down') return void res.writeHead(503).end('Service Unavailable');
		if (state.mode === 'garbage')
			return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
		const prefix = /^\/range\/([0-9A-F]{5})$/.exec(req.url ?? '')?.[1];
		if (!prefix) return void res.writeHead(400).end('The hash prefix was not in a valid format');
		const lines = entries
			.filter(([hash]) => hash.startsWith(prefix))
			.map(([hash, count]) => `${hash.slice(5)}:${count}`);
		lines.push('0'.repeat(35) + ':0', `${'A'.repeat(34)}1:12`);
		res.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\r\n'));
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
