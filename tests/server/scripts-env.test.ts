import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newKeyEntry } from '../../src/lib/server/core/keys';
import { AGENT_PASSWORD } from '../support/agents';

/**
 * Issue 24: the command-line scripts in a fresh development checkout, run as a newcomer runs them
 * right after `npm run dev` — no variables: the dev server's database and local key ring — and how
 * they fail: one line on stderr and exit code 1, never a stack trace.
 */
const repo = resolve(import.meta.dirname, '../..');
const tsx = createRequire(import.meta.url).resolve('tsx');
/** The checkout's working folder: `./data/` is made here, as in a fresh clone. */
const cwd = mkdtempSync(join(tmpdir(), 'asc-scripts-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** `npm run <script>` as the shell runs it: nothing of the test runner's environment leaks in. */
function run(script: string, args: string[], env: Record<string, string> = {}) {
	const result = spawnSync(process.execPath, ['--import', tsx, join(repo, script), ...args], {
		cwd,
		env: {
			PATH: process.env.PATH,
			HOME: cwd,
			TSX_TSCONFIG_PATH: join(repo, 'tsconfig.json'),
			...env
		},
		encoding: 'utf8',
		timeout: 90_000
	});
	return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('scripts read the environment as the dev server does (§9)', { timeout: 300_000 }, () => {
	it('agent, db:migrate and seed work with no variables after the dev server made ./data/', () => {
		const list = run('scripts/agent.ts', ['list']);
		expect(list).toMatchObject({ code: 0, stdout: '' });
		// The development ring, made once as `npm run dev` makes it; then the same one each time.
		expect(list.stderr).toContain('generated a development key ring at ./data/secret-keys');
		expect(statSync(join(cwd, 'data', 'secret-keys')).mode & 0o777).toBe(0o600);
		expect(statSync(join(cwd, 'data', 'app.db')).isFile()).toBe(true);

		const create = run('scripts/agent.ts', ['create', 'li.na'], { AGENT_PASSWORD });
		expect(create.code).toBe(0);
		expect(create.stdout).toContain('created agent li.na');
		expect(create.stderr).toBe('');
		expect(run('scripts/agent.ts', ['list']).stdout).toMatch(/^li\.na\tagent\tactive\t/);

		expect(run('scripts/db-migrate.ts', [])).toMatchObject({
			code: 0,
			stdout: 'already up to date\n'
		});
		const seed = run('scripts/seed.ts', ['--accounts', '40']);
		expect(seed.code).toBe(0);
		expect(seed.stdout).toMatch(/^seeded sqlite .* 40 accounts/);
	});

	it('another key ring, production without one, a bad DATABASE_URL: one line naming the fix, exit code 1', () => {
		const wrong = run('scripts/agent.ts', ['list'], {
			APP_SECRET_KEYS: newKeyEntry(new Date('2026-12-06T00:00:00Z'))
		});
		expect(wrong).toMatchObject({ code: 1, stdout: '' });
		expect(wrong.stderr).toMatch(
			/^error: APP_SECRET_KEYS does not open the database \.\/data\/app\.db: it expects the key id k19700101[0-9a-f]{4}, the ring holds k20261206[0-9a-f]{4} \(missing: k19700101[0-9a-f]{4}\)\. Set APP_SECRET_KEYS to the ring \(or the file holding it\) this database was started with, or point DATABASE_URL at a database of its own\n$/
		);
		for (const [script, args] of [
			['scripts/seed.ts', ['--accounts', '1']],
			['scripts/db-migrate.ts', []],
			['scripts/keys.ts', ['rotate']]
		] as const) {
			const refused = run(script, [...args], { NODE_ENV: 'production' });
			expect({ script, ...refused }).toMatchObject({ script, code: 1, stdout: '' });
			expect(refused.stderr).toMatch(
				/^error: APP_SECRET_KEYS is required in production: [^\n]+\n$/
			);
		}
		const badUrl = run('scripts/agent.ts', ['list'], { DATABASE_URL: 'mysql://db/asc' });
		expect(badUrl).toMatchObject({ code: 1, stdout: '' });
		expect(badUrl.stderr).toMatch(/^error: DATABASE_URL: unsupported scheme [^\n]+\n$/);
	});
});
