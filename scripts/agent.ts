// `npm run agent -- create|disable|list|purge-documents`: R22 support accounts, made only here
// (no default accounts, no sign-up page). The password comes from AGENT_PASSWORD or a hidden prompt.
import { encodeBase32NoPadding } from '@oslojs/encoding';
import { createAgent, disableAgent, listAgents, type Role } from '../src/lib/server/support/agents';
import { purgeExpiredDocuments } from '../src/lib/server/retention/documents';
import { agentPassword } from './agent-prompt';
import { openScriptContext, runScript, scriptConfig } from './script-context';

const usage = `usage:
  npm run agent -- create <username> [--role agent|admin] [--json]   (password: AGENT_PASSWORD or a hidden prompt; at least 12 characters)
  npm run agent -- disable <username>
  npm run agent -- list
  npm run agent -- purge-documents                                    (R19 retention; run daily)`;

const [command, ...args] = process.argv.slice(2);
await runScript(async () => {
	const named = command === 'create' || command === 'disable';
	if (
		!['create', 'disable', 'list', 'purge-documents'].includes(command ?? '') ||
		(named && !args[0])
	) {
		console.error(usage);
		return 2;
	}
	const ctx = await openScriptContext(scriptConfig());
	try {
		if (command === 'create' && args[0]) {
			const roleIndex = args.indexOf('--role');
			const role = (roleIndex >= 0 ? args[roleIndex + 1] : 'agent') as Role;
			if (role !== 'agent' && role !== 'admin') throw new Error('--role must be agent or admin');
			const result = await createAgent(ctx, {
				username: args[0],
				password: await agentPassword(process.env),
				role
			});
			if (!result.ok) {
				console.error(
					`not created: ${result.problem}${result.detail ? ` (${result.detail})` : ''}`
				);
				return 1;
			} else if (args.includes('--json')) {
				console.log(
					JSON.stringify({
						id: result.agent.id,
						username: result.agent.username,
						role,
						totpSecret: encodeBase32NoPadding(result.totpKey),
						totpUri: result.totpUri
					})
				);
			} else {
				console.log(`created ${result.agent.role} ${result.agent.username}`);
				console.log(
					`TOTP secret (add to an authenticator app; shown once): ${encodeBase32NoPadding(result.totpKey)}`
				);
				console.log(`TOTP URI: ${result.totpUri}`);
			}
		} else if (command === 'disable' && args[0]) {
			const done = await disableAgent(ctx, args[0]);
			console.log(done ? `disabled ${args[0]}; its sessions ended` : `no agent ${args[0]}`);
			return done ? 0 : 1;
		} else if (command === 'list') {
			for (const a of await listAgents(ctx)) {
				console.log(
					`${a.username}\t${a.role}\t${a.disabled_at ? 'disabled' : 'active'}\tcreated ${new Date(a.created_at).toISOString()}`
				);
			}
		} else {
			console.log(`deleted ${await purgeExpiredDocuments(ctx)} document(s)`);
		}
		return 0;
	} finally {
		await ctx.close();
	}
});
