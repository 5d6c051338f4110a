import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

/**
 * A prompt for secrets that never echoes them: readline runs in terminal mode (the terminal's own
 * echo is off) and whatever it writes after each question — the typed characters — is dropped.
 * One interface for every question: a second one would open with the terminal briefly echoing.
 */
export function openHiddenPrompt(
	input: NodeJS.ReadableStream = process.stdin,
	output: NodeJS.WritableStream = process.stderr
): { ask: (question: string) => Promise<string>; close: () => void } {
	let muted = false;
	const sink = new Writable({
		write(chunk, encoding, done) {
			if (!muted) output.write(chunk, encoding);
			done();
		}
	});
	const rl = createInterface({ input, output: sink, terminal: true });
	// Ctrl-C in raw mode reaches readline, not the process: closing rejects the question.
	rl.on('SIGINT', () => rl.close());
	return {
		async ask(question) {
			muted = false;
			const answer = rl.question(question);
			muted = true;
			try {
				return await answer;
			} finally {
				output.write('\n');
			}
		},
		close: () => rl.close()
	};
}

/** R22: the agent's password from AGENT_PASSWORD, else typed twice at a hidden prompt. */
export async function agentPassword(
	env: NodeJS.ProcessEnv,
	prompt: () => ReturnType<typeof openHiddenPrompt> = openHiddenPrompt
): Promise<string> {
	if (env.AGENT_PASSWORD) return env.AGENT_PASSWORD;
	const { ask, close } = prompt();
	try {
		const first = await ask('Password (at least 12 characters; not shown): ');
		const again = await ask('Repeat the password: ');
		if (first !== again) throw new Error('the two passwords differ; nothing was created');
		return first;
	} finally {
		close();
	}
}
