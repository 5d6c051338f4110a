import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FixedClock } from '../../src/lib/server/core/clock';
import { ConfigError } from '../../src/lib/server/core/config';
import { claimSqliteFile } from '../../src/lib/server/platform/instance-claim';

/**
 * R15, docs/rules.md §9: an SQLite deployment without Redis counts its rate limits in the one
 * process that serves the file, so a second server on the same file refuses to start; a claim
 * whose process is gone, or whose heartbeat stopped, does not hold a restart back.
 */
describe('R15 one instance per SQLite file', () => {
	const dir = mkdtempSync(join(tmpdir(), 'asc-claim-'));
	afterAll(() => rmSync(dir, { recursive: true, force: true }));
	let n = 0;
	const file = () => join(dir, `app-${++n}.db`);
	const clock = new FixedClock('2026-11-26T12:00:00Z');
	const alive = (pid: number) => pid !== 404;

	it('R15: a second server on the same file is refused, naming the one that holds it', () => {
		const path = file();
		const first = claimSqliteFile(path, { clock, host: 'web-1', pid: 100, alive });
		expect(() => claimSqliteFile(path, { clock, host: 'web-1', pid: 200, alive })).toThrow(
			ConfigError
		);
		expect(() => claimSqliteFile(path, { clock, host: 'web-2', pid: 100, alive })).toThrow(
			/in use by another instance \(host web-1, process 100, seen 0 s ago\).*PostgreSQL/
		);
		first.release();
		expect(existsSync(`${path}.instance`)).toBe(false);
		claimSqliteFile(path, { clock, host: 'web-1', pid: 200, alive }).release();
	});

	it('R15: a claim whose process is gone (same host) is taken over at once', () => {
		const path = file();
		claimSqliteFile(path, { clock, host: 'web-1', pid: 404, alive });
		const next = claimSqliteFile(path, { clock, host: 'web-1', pid: 101, alive });
		expect(() => claimSqliteFile(path, { clock, host: 'web-1', pid: 102, alive })).toThrow(
			/process 101/
		);
		next.release();
	});

	it('R15: a claim from another host is taken over once its heartbeat is older than staleMs', () => {
		const path = file();
		claimSqliteFile(path, { clock, host: 'gone', pid: 1, alive, staleMs: 30_000 });
		clock.advance(30_000);
		expect(() =>
			claimSqliteFile(path, { clock, host: 'web-1', pid: 5, alive, staleMs: 30_000 })
		).toThrow(/seen 30 s ago/);
		clock.advance(1);
		claimSqliteFile(path, { clock, host: 'web-1', pid: 5, alive, staleMs: 30_000 }).release();
	});

	it('R15: an unreadable claim (cut short by a crash) holds nothing', () => {
		const path = file();
		writeFileSync(`${path}.instance`, '{"id":');
		const claim = claimSqliteFile(path, { clock, host: 'web-1', pid: 7, alive });
		expect(() => claimSqliteFile(path, { clock, host: 'web-1', pid: 8, alive })).toThrow(
			/process 7/
		);
		claim.release();
	});

	it('R15: two containers with one host name and node as process 1 in each do not both hold the file (found by a reviewer)', () => {
		const path = file();
		const dead = () => false;
		const first = claimSqliteFile(path, {
			clock,
			host: 'node-host',
			space: 'ns-a',
			pid: 1,
			alive: dead
		});
		// Same host name and pid, another pid namespace: the kernel cannot tell; the heartbeat does.
		expect(() =>
			claimSqliteFile(path, { clock, host: 'node-host', space: 'ns-b', pid: 1, alive: dead })
		).toThrow(/in use by another instance/);
		expect(() =>
			claimSqliteFile(path, { clock, host: 'node-host', space: 'ns-b', pid: 7, alive: dead })
		).toThrow(/in use by another instance/);
		// A process space that cannot be read ('') never trusts a pid either.
		expect(() =>
			claimSqliteFile(path, { clock, host: 'node-host', space: '', pid: 9, alive: dead })
		).toThrow(/in use by another instance/);
		first.release();
	});

	it('R15: an instance whose claim is taken over stops instead of counting beside the other', () => {
		vi.useFakeTimers();
		try {
			const path = file();
			let stopped = 0;
			claimSqliteFile(path, {
				clock,
				host: 'web-1',
				pid: 404,
				alive,
				beatMs: 1000,
				onLost: () => stopped++
			});
			// A restart on the same host finds process 404 gone and takes the file over.
			const next = claimSqliteFile(path, { clock, host: 'web-1', pid: 101, alive, beatMs: 1000 });
			vi.advanceTimersByTime(1000);
			expect(stopped).toBe(1);
			vi.advanceTimersByTime(5000);
			expect(stopped).toBe(1);
			next.release();
		} finally {
			vi.useRealTimers();
		}
	});
});
