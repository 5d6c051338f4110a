import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startupProblem } from '../../src/lib/server/app';
import {
	keyringFrom,
	loadKeyring,
	newKeyEntry,
	parseKeyEntries
} from '../../src/lib/server/core/keys';

const k1 = { kid: 'k1', key: Buffer.alloc(32, 1) };
const k2 = { kid: 'k2', key: Buffer.alloc(32, 2) };

describe('the key ring (keys outside the database)', () => {
	it('seals with AES-256-GCM bound to purpose and context; anything else fails to open', () => {
		const ring = keyringFrom([k1]);
		const sealed = ring.seal('outbox', 'row-1', 'Your verification code: 123456');
		expect(sealed).toMatch(/^v1\.k1\./);
		expect(sealed).not.toContain('123456');
		expect(ring.open('outbox', 'row-1', sealed).toString()).toBe('Your verification code: 123456');
		expect(() => ring.open('outbox', 'row-2', sealed)).toThrow();
		expect(() => ring.open('totp', 'row-1', sealed)).toThrow();
		const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
		expect(() => ring.open('outbox', 'row-1', tampered)).toThrow();
	});

	it('rotation: a new key in front seals and hashes; the old one keeps opening; without it nothing opens', () => {
		const old = keyringFrom([k1]).seal('totp', 'agent-1', Buffer.from('secret'));
		const rotated = keyringFrom([k2, k1]);
		expect(rotated.open('totp', 'agent-1', old).toString()).toBe('secret');
		expect(rotated.isCurrent(old)).toBe(false);
		const resealed = rotated.seal('totp', 'agent-1', rotated.open('totp', 'agent-1', old));
		expect(rotated.isCurrent(resealed)).toBe(true);
		expect(keyringFrom([k2]).open('totp', 'agent-1', resealed).toString()).toBe('secret');
		expect(() => keyringFrom([k2]).open('totp', 'agent-1', old)).toThrow(/no key "k1"/);
		expect(rotated.hmac('identifier', 'a@example.com')).toBe(
			keyringFrom([k2]).hmac('identifier', 'a@example.com')
		);
		expect(rotated.hmac('identifier', 'a@example.com')).not.toBe(
			keyringFrom([k1]).hmac('identifier', 'a@example.com')
		);
	});

	it('sub-keys differ by purpose, and parts are length-prefixed', () => {
		const ring = keyringFrom([k1]);
		expect(ring.hmac('ip', 'x')).not.toBe(ring.hmac('identifier', 'x'));
		expect(ring.hmac('p', 'ab', 'c')).not.toBe(ring.hmac('p', 'a', 'bc'));
	});

	it('APP_SECRET_KEYS: kid:base64 entries newest first, or a file; bad entries are refused with a message', () => {
		const entry = newKeyEntry(new Date('2026-12-01T00:00:00Z'));
		expect(entry).toMatch(/^k20261201[0-9a-f]{4}:[A-Za-z0-9+/]{43}=$/);
		expect(
			parseKeyEntries(`${entry},old:${Buffer.alloc(32, 3).toString('base64')}`).map((k) => k.kid)
		).toEqual([entry.split(':')[0], 'old']);
		expect(() => parseKeyEntries('k1:c2hvcnQ=')).toThrow(/32 bytes/);
		expect(() => parseKeyEntries('')).toThrow(/no keys/);
		expect(() =>
			parseKeyEntries(`a:${k1.key.toString('base64')},a:${k2.key.toString('base64')}`)
		).toThrow(/twice/);
		const dir = mkdtempSync(join(tmpdir(), 'asc-keys-'));
		writeFileSync(join(dir, 'ring'), `# newest first\n${entry}\n`);
		const fromFile = loadKeyring(join(dir, 'ring'), {
			production: true,
			devKeyFile: join(dir, 'unused')
		});
		expect(fromFile.kids).toEqual([entry.split(':')[0]]);
	});

	it('production refuses to start without a key ring, saying how to make one; development makes a local one once', () => {
		const dir = mkdtempSync(join(tmpdir(), 'asc-keys-'));
		expect(() => loadKeyring(undefined, { production: true, devKeyFile: join(dir, 'k') })).toThrow(
			/required in production.*npm run keys:new/
		);
		let refused: unknown;
		try {
			loadKeyring(undefined, { production: true, devKeyFile: join(dir, 'k') });
		} catch (error) {
			refused = error;
		}
		// What the server prints before it exits: one line, no stack.
		expect(startupProblem(refused)).toMatch(
			/^Account Security Check cannot start: APP_SECRET_KEYS is required in production: generate a key ring with `npm run keys:new`[^\n]*$/
		);
		expect(startupProblem(new Error('anything else'))).toBeNull();
		const said: string[] = [];
		const first = loadKeyring(undefined, {
			production: false,
			devKeyFile: join(dir, 'data', 'secret-keys'),
			say: (m) => said.push(m)
		});
		expect(said).toEqual([expect.stringContaining('generated a development key ring')]);
		expect(statSync(join(dir, 'data', 'secret-keys')).mode & 0o777).toBe(0o600);
		const again = loadKeyring(undefined, {
			production: false,
			devKeyFile: join(dir, 'data', 'secret-keys'),
			say: (m) => said.push(m)
		});
		expect(said).toHaveLength(1);
		expect(again.hmac('x', 'y')).toBe(first.hmac('x', 'y'));
		expect(readFileSync(join(dir, 'data', 'secret-keys'), 'utf8')).toMatch(
			/^[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+\n$/
		);
	});
});
