import pino from 'pino';

/**
 * Structured JSON logs. R4: identifiers are masked by the callers before they get here; these
 * paths are redacted as a second line of defence, so a careless `log.info({ body })` cannot leak
 * a password, code or token.
 */
export const logOptions: pino.LoggerOptions = {
	base: undefined,
	timestamp: pino.stdTimeFunctions.isoTime,
	redact: {
		paths: [
			'password',
			'currentPassword',
			'newPassword',
			'code',
			'token',
			'statusToken',
			'authorization',
			'*.password',
			'*.code',
			'*.token',
			'headers.authorization',
			'headers.cookie'
		],
		censor: '[redacted]'
	}
};

/**
 * Written asynchronously: a line waits while the previous write is in flight, and under load one
 * write carries many lines instead of one system call per request (docs/BENCHMARKS.md). pino
 * flushes what is left when the process exits; only a SIGKILL can lose the lines of that moment.
 */
export const log = pino(
	{ ...logOptions, level: process.env.NODE_ENV === 'test' ? 'silent' : 'info' },
	pino.destination({ dest: 1, sync: false })
);
