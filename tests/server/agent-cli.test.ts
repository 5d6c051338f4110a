import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { agentPassword, openHiddenPrompt } from '../../scripts/agent-prompt';

/** A terminal as readline sees it: a TTY input whose raw mode is recorded. */
function terminal() {
	const input = Object.assign(new PassThrough(), {
		isTTY: true,
		setRawMode: vi.fn(() => input)
	});
	const output = new PassThrough();
	let shown = '';
	output.on('data', (chunk: Buffer) => (shown += chunk.toString('utf8')));
	return { input, output, shown: () => shown };
}

describe('agent CLI password prompt (R22)', () => {
	it('shows the question, never the typed password, with the terminal in raw mode (no echo)', async () => {
		const tty = terminal();
		const prompt = openHiddenPrompt(tty.input, tty.output);
		const first = prompt.ask('Password: ');
		tty.input.write('correct horse battery\r');
		await expect(first).resolves.toBe('correct horse battery');
		const second = prompt.ask('Repeat the password: ');
		tty.input.write('second secret line\r');
		await expect(second).resolves.toBe('second secret line');
		prompt.close();
		expect(tty.input.setRawMode).toHaveBeenCalledWith(true);
		expect(tty.shown()).toContain('Password: ');
		expect(tty.shown()).toContain('Repeat the password: ');
		expect(tty.shown()).not.toMatch(/correct|horse|second secret|\*/);
	});

	it('asks twice and refuses two different passwords', async () => {
		const answers = ['a long password one', 'a long password two'];
		const close = vi.fn();
		const prompt = () => ({ ask: async () => answers.shift()!, close });
		await expect(agentPassword({}, prompt)).rejects.toThrow('the two passwords differ');
		expect(close).toHaveBeenCalled();
	});

	it('takes AGENT_PASSWORD without prompting', async () => {
		const prompt = vi.fn();
		await expect(agentPassword({ AGENT_PASSWORD: 'from the environment' }, prompt)).resolves.toBe(
			'from the environment'
		);
		expect(prompt).not.toHaveBeenCalled();
	});
});
