import { error } from '@sveltejs/kit';
import type { AdjustableClock } from '../core/clock';
import type { Ctx } from '../core/context';

/** docs/api.md test hooks exist only with APP_TEST_HOOKS=1; otherwise they are plain 404s. */
export function requireTestHooks(app: Ctx): { clock: AdjustableClock } {
	if (!app.config.testHooks || !app.testClock) error(404, 'Not found');
	return { clock: app.testClock };
}
