import pino from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { logOptions } from '../../src/lib/server/core/log';

describe('structured logs (R4)', () => {
	it('writes JSON lines and redacts passwords, codes and tokens wherever a caller puts them', () => {
		const lines: string[] = [];
		const sink = new Writable({
			write: (chunk, _enc, done) => (lines.push(String(chunk)), done())
		});
		const logger = pino(logOptions, sink);
		logger.info({
			event: 'x',
			password: 'hunter22',
			code: '123456',
			token: 'abc',
			nested: { password: 'p', code: '654321' },
			headers: { authorization: 'Bearer t' }
		});
		const entry = JSON.parse(lines[0]!);
		expect(entry).toMatchObject({
			event: 'x',
			password: '[redacted]',
			code: '[redacted]',
			token: '[redacted]',
			nested: { password: '[redacted]', code: '[redacted]' },
			headers: { authorization: '[redacted]' }
		});
		expect(lines[0]).not.toMatch(/hunter22|123456|654321|Bearer t/);
		expect(entry.time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
	});
});
