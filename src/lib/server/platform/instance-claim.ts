import { randomUUID } from 'node:crypto';
import {
	closeSync,
	openSync,
	readFileSync,
	readlinkSync,
	unlinkSync,
	writeFileSync,
	writeSync
} from 'node:fs';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../core/clock';
import { ConfigError } from '../core/config';
import { log } from '../core/log';

/**
 * docs/rules.md §9, R15: an SQLite deployment without Redis counts its rate limits in the process
 * (`limits-memory.ts`), which is exact only while one instance uses the file. The server claims
 * the file with `<file>.instance` (its host, process id and a heartbeat every `beatMs`); a second
 * server on the same file finds a live claim and refuses to start.
 *
 * A claim is stale, and taken over, when its process is gone or its heartbeat is older than
 * `staleMs` (a crashed instance on another host or container: a new one starts once that much has
 * passed). "Gone" is asked of the kernel only when the claim was made in this very process space:
 * same host name, same process-id namespace and same boot. Two containers with one host name and
 * node as process 1 in each share a host name and a process id but not a namespace, and neither
 * can see the other's processes: there only the heartbeat decides. An instance that finds its
 * claim taken over stops (SIGTERM: a graceful shutdown) rather than count limits beside another.
 * Scripts (`npm run agent`, key rotation) claim nothing.
 */
export interface InstanceClaim {
	release(): void;
}

interface Claim {
	id: string;
	host: string;
	/** The process-id namespace and boot this pid belongs to ('' when unknown). */
	space: string;
	pid: number;
	beatAt: number;
}

export interface ClaimOptions {
	beatMs?: number;
	staleMs?: number;
	clock?: Clock;
	host?: string;
	/** This process's pid namespace and boot (the default reads /proc; '' where there is none). */
	space?: string;
	pid?: number;
	/** Whether a process of this host is running (the default asks the kernel). */
	alive?: (pid: number) => boolean;
	/** When another instance took the claim over (the default: a graceful shutdown of this one). */
	onLost?: () => void;
}

/** Which process space a pid is in: its pid namespace and the boot (Linux); '' elsewhere. */
function processSpace(): string {
	try {
		const namespace = readlinkSync('/proc/self/ns/pid');
		const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
		return `${namespace}@${boot}`;
	} catch {
		return '';
	}
}

function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

function readClaim(path: string): Claim | null {
	try {
		const claim = JSON.parse(readFileSync(path, 'utf8')) as Partial<Claim>;
		return typeof claim.id === 'string' &&
			typeof claim.host === 'string' &&
			typeof claim.space === 'string' &&
			typeof claim.pid === 'number' &&
			typeof claim.beatAt === 'number'
			? (claim as Claim)
			: null;
	} catch {
		// None, or unreadable (a claim cut short by a crash): no live claim.
		return null;
	}
}

export function claimSqliteFile(databasePath: string, options: ClaimOptions = {}): InstanceClaim {
	const {
		beatMs = 10_000,
		staleMs = 30_000,
		clock = systemClock,
		host = hostname(),
		space = processSpace(),
		pid = process.pid,
		alive = processAlive,
		onLost = () => process.kill(process.pid, 'SIGTERM')
	} = options;
	const path = `${databasePath}.instance`;
	const now = () => clock.now().getTime();
	const mine: Claim = { id: randomUUID(), host, space, pid, beatAt: now() };
	const write = () => writeFileSync(path, JSON.stringify({ ...mine, beatAt: now() }));

	let created = false;
	try {
		const fd = openSync(path, 'wx');
		writeSync(fd, JSON.stringify(mine));
		closeSync(fd);
		created = true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
	}
	if (!created) {
		const other = readClaim(path);
		// Only in one process space does a pid name one process: there, our own pid in the claim
		// (a restart that got the same pid) or a pid with no process means the claimant is gone.
		const sameSpace =
			other !== null && space !== '' && other.host === host && other.space === space;
		const gone =
			other === null ||
			now() - other.beatAt > staleMs ||
			(sameSpace && (other.pid === pid || !alive(other.pid)));
		if (!gone) {
			const seconds = Math.max(0, Math.round((now() - other.beatAt) / 1000));
			throw new ConfigError(
				`the SQLite database ${databasePath} is in use by another instance (host ${other.host}, process ${other.pid}, seen ${seconds} s ago). ` +
					'With SQLite and no REDIS_URL, rate limits are counted in the one process that serves the file: run one instance, ' +
					`or use PostgreSQL (with REDIS_URL) for several. If that instance has stopped, this clears within ${Math.round(staleMs / 1000)} s.`
			);
		}
		write();
	}
	const beat = setInterval(() => {
		const current = readClaim(path);
		if (current && current.id !== mine.id) {
			clearInterval(beat);
			log.error({
				event: 'instance.claim_lost',
				message: `another instance (host ${current.host}, process ${current.pid}) took over ${path}: stopping`
			});
			onLost();
		} else write();
	}, beatMs);
	beat.unref();
	return {
		release() {
			clearInterval(beat);
			if (readClaim(path)?.id === mine.id) {
				try {
					unlinkSync(path);
				} catch {
					// Already gone: nothing to release.
				}
			}
		}
	};
}
