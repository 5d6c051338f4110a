import { setupWorker } from 'msw/browser';
import { checkHandlers } from './handlers';

/**
 * `npm run dev:mock`: the check page's calls, answered in the browser through MSW's service worker.
 * Only those: every other page signs in, registers and changes settings through form actions on
 * the server, which a service worker never sees, so its few `fetch` calls go to the server too.
 */
export const worker = setupWorker(...checkHandlers);
