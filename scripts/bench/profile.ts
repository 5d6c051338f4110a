// Reads a V8 CPU profile (`node --cpu-prof`) and prints where the time went: the functions with the
// most self time, and self time by where the code lives (a package, Node itself, our build).

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	children?: number[];
}

export interface CpuProfile {
	nodes: ProfileNode[];
	startTime: number;
	endTime: number;
	samples: number[];
	timeDeltas: number[];
}

/** Where a frame's code lives: `pkg:<name>`, `node`, `app`, or V8's own (GC, idle, program). */
function place(url: string, name: string): string {
	if (!url) return name.startsWith('(') ? name : 'native';
	const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
	if (pkg) return `pkg:${pkg[1]}`;
	if (url.startsWith('node:')) return 'node';
	if (url.includes('/build/')) return 'app (build/)';
	return url;
}

function table(title: string, rows: [string, number][], total: number, n: number): string {
	const lines = [`| ${title} | ms | share |`, '| --- | ---: | ---: |'];
	for (const [key, us] of rows.sort((a, b) => b[1] - a[1]).slice(0, n))
		lines.push(
			`| ${key.replaceAll('|', '\\|')} | ${(us / 1000).toFixed(0)} | ${((100 * us) / total).toFixed(1)} % |`
		);
	return lines.join('\n');
}

/** A frame's name and where it lives, as the tables print it. */
function frameKey(frame: ProfileNode['callFrame']): string {
	const file = frame.url.replace(/^.*\/(node_modules\/|build\/)/, '$1');
	return `${frame.functionName || '(anonymous)'} ${file ? `${file}:${frame.lineNumber + 1}` : ''}`.trim();
}

/**
 * Self time per profile node, in µs. With `lastUs`, only the samples of the profile's last `lastUs`
 * microseconds count (the load, not the server's start-up).
 */
function selfTimes(profile: CpuProfile, lastUs = Infinity): Map<number, number> {
	const self = new Map<number, number>();
	const from = profile.endTime - lastUs;
	let at = profile.startTime;
	profile.samples.forEach((id, i) => {
		const us = profile.timeDeltas[i] ?? 0;
		at += us;
		if (at >= from) self.set(id, (self.get(id) ?? 0) + us);
	});
	return self;
}

/**
 * One line: the `n` functions with the most self time in the profile's last `lastUs` µs, each with
 * its share of the busy (non-idle) time, then the garbage collector's share and where the code lives.
 */
export function topFrames(profile: CpuProfile, n: number, lastUs: number): string {
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	const byFunction = new Map<string, number>();
	const byPlace = new Map<string, number>();
	let busy = 0;
	for (const [id, us] of selfTimes(profile, lastUs)) {
		const frame = (byId.get(id) as ProfileNode).callFrame;
		if (frame.functionName === '(idle)') continue;
		byFunction.set(frameKey(frame), (byFunction.get(frameKey(frame)) ?? 0) + us);
		const where = place(frame.url, frame.functionName);
		byPlace.set(where, (byPlace.get(where) ?? 0) + us);
		busy += us;
	}
	const share = (us: number) => `${((100 * us) / Math.max(busy, 1)).toFixed(1)} %`;
	const top = (map: Map<string, number>, k: number) =>
		[...map]
			.sort((a, b) => b[1] - a[1])
			.slice(0, k)
			.map(([key, us]) => `\`${key.replaceAll('|', '\\|')}\` ${share(us)}`)
			.join(', ');
	const gc = byFunction.get('(garbage collector)') ?? 0;
	byFunction.delete('(garbage collector)');
	return `${top(byFunction, n)}; GC ${share(gc)}; by place: ${top(byPlace, 3)} (${(busy / 1e6).toFixed(1)} s busy)`;
}

export function summarizeProfile(profile: CpuProfile, n: number): string {
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	const self = selfTimes(profile);
	const byFunction = new Map<string, number>();
	const byPlace = new Map<string, number>();
	let total = 0;
	for (const [id, us] of self) {
		const frame = (byId.get(id) as ProfileNode).callFrame;
		const key = frameKey(frame);
		byFunction.set(key, (byFunction.get(key) ?? 0) + us);
		const where = place(frame.url, frame.functionName);
		byPlace.set(where, (byPlace.get(where) ?? 0) + us);
		total += us;
	}
	// Inclusive time of the app's own frames (a function once per stack: recursion counts once).
	const parent = new Map<number, number>();
	for (const node of profile.nodes)
		for (const child of node.children ?? []) parent.set(child, node.id);
	const inclusive = new Map<string, number>();
	for (const [id, us] of self) {
		const seen = new Set<string>();
		for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
			const frame = (byId.get(at) as ProfileNode).callFrame;
			if (!frame.url.includes('/build/') || !frame.functionName) continue;
			const key = `${frame.functionName} ${frame.url.replace(/^.*\/build\//, 'build/')}:${frame.lineNumber + 1}`;
			if (seen.has(key)) continue;
			seen.add(key);
			inclusive.set(key, (inclusive.get(key) ?? 0) + us);
		}
	}
	return [
		`${(total / 1e6).toFixed(1)} s sampled`,
		'',
		table('app function (inclusive time)', [...inclusive], total, n),
		'',
		table('function (self time)', [...byFunction], total, n),
		'',
		table('where the code lives', [...byPlace], total, 20)
	].join('\n');
}
