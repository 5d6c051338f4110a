// `npm run keys:new`: prints a new key-ring entry (kid:base64). Put it in front of APP_SECRET_KEYS.
// `npm run keys:rotate`: re-seals every stored sealed value under the newest key of APP_SECRET_KEYS
// and retires the key checks of keys nothing is sealed under any more, after which those keys may
// be removed from the ring (README, APP_SECRET_KEYS; docs/SECURITY.md, V11.2 / V14).
import { retireKeyChecks } from '../src/lib/server/core/key-check';
import { rotateSealed } from '../src/lib/server/core/key-rotation';
import { newKeyEntry } from '../src/lib/server/core/keys';
import { openScriptContext, runScript, scriptConfig } from './script-context';

const [command] = process.argv.slice(2);
if (command === 'new') {
	console.log(newKeyEntry(new Date()));
} else if (command === 'rotate') {
	await runScript(async () => {
		const ctx = await openScriptContext(scriptConfig());
		const { keys } = ctx;
		try {
			const result = await rotateSealed(ctx);
			for (const [column, n] of Object.entries(result.resealed))
				console.log(`${column}: ${n} re-sealed under ${keys.kids[0]}`);
			const unreadable = Object.entries(result.unreadable).filter(([, n]) => n > 0);
			for (const [column, n] of unreadable)
				console.error(`${column}: ${n} value(s) no key on the ring opens`);
			const { retired, needed } = await retireKeyChecks(ctx);
			if (retired.length)
				console.log(`no longer needed, may leave the ring: ${retired.join(', ')}`);
			if (needed.length) console.error(`still needed, keep on the ring: ${needed.join(', ')}`);
			return unreadable.length ? 1 : 0;
		} finally {
			await ctx.close();
		}
	});
} else {
	console.error('usage: npm run keys:new | npm run keys:rotate');
	process.exitCode = 2;
}
