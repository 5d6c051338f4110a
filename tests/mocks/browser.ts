import { setupWorker } from 'msw/browser';
import { handlers } from './handlers';

/** `npm run dev:mock`: the same handlers, in the browser, through MSW's service worker. */
export const worker = setupWorker(...handlers);
