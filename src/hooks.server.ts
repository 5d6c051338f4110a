import type { ServerInit } from '@sveltejs/kit';
import { openServerContext, startBackgroundJobs, startupProblem } from '$lib/server/app';
import type { AppContext } from '$lib/server/core/context';
import { parseConfig } from '$lib/server/core/config';
import { once } from '$lib/server/core/once';
import { createHandle, createHandleError } from '$lib/server/http/handle';

// The process entry: the one context of this process, opened once (configuration checked,
// migrations applied, Redis connected) and shared by every request.
const processContext: () => Promise<AppContext> = once(() =>
	openServerContext(parseConfig(process.env))
);

/** Configuration is checked and migrations applied before the server accepts a request. */
export const init: ServerInit = async () => {
	try {
		startBackgroundJobs(await processContext());
	} catch (error) {
		// A configuration the operator must fix (a missing key ring, a bad variable) is one line.
		const line = startupProblem(error);
		if (!line) throw error;
		console.error(line);
		process.exit(1);
	}
};

export const handle = createHandle(processContext);

export const handleError = createHandleError(processContext);
