import { describe, expect, it } from 'vitest';
import {
	checkPassword,
	hashPassword,
	verifyPassword
} from '../../src/lib/server/accounts/passwords';

const rules = { minLength: 8, identifiers: ['zhang.wei@example.com', '+8613800138000'] };

describe('R5 passwords', () => {
	it.each([
		['short', 'too_short'],
		['x'.repeat(129), 'too_long'],
		['password1', 'too_common'],
		['PASSWORD', 'too_common'],
		['iloveyou', 'too_common'],
		['zhang.wei@example.com', 'equals_identifier'],
		['ZHANG.WEI', 'equals_identifier'],
		['8613800138000', 'equals_identifier']
	])('refuses %j as %s', (password, problem) => {
		expect(checkPassword(password, rules)).toBe(problem);
	});

	it.each(['correct horse battery', '密码是一匹快乐的马', 'x'.repeat(128)])(
		'accepts %j',
		(password) => {
			expect(checkPassword(password, rules)).toBeNull();
		}
	);

	it('R5: operators may lower the minimum to 6', () => {
		expect(checkPassword('kx7#qa', { ...rules, minLength: 6 })).toBeNull();
		expect(checkPassword('kx7#qa', rules)).toBe('too_short');
	});

	it('R5: counts characters as people see them', () => {
		expect(checkPassword('😀😀😀😀😀😀😀😀', rules)).toBeNull();
	});

	it('R5: argon2id hash; NFC and NFD spellings of a password are the same password', async () => {
		const nfc = 'Caf\u00e9 au lait noir';
		const stored = await hashPassword(nfc);
		expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
		expect(await verifyPassword(stored, nfc.normalize('NFD'))).toBe(true);
		expect(await verifyPassword(stored, 'Cafe au lait noir')).toBe(false);
		expect(await verifyPassword('not a hash', nfc)).toBe(false);
	});
});
