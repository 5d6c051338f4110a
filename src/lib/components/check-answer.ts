// What the check form shows once a check has answered: the report with its panels, and the wait
// after a refused check (R15). One chunk, loaded when first needed (answer-parts.ts).
export { default as CheckResult } from './CheckResult.svelte';
export { default as RetryNotice } from './RetryNotice.svelte';
