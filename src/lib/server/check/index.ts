/**
 * check/ — the security check, the centre of the product: the report (R13, R14), what each
 * viewer may see (R15a disclosure tiers, proof by a `check` code, the short grant), the recent
 * checks agents see (R15), and the owner's own summary. Imported only through this file.
 */

export { checkGrantCovers, issueCheckGrant } from './grant';
export { CHECK_BURST_MIN, checkHistory } from './history';
export { runCheck } from './run';
export type { Viewer } from './report';
export { accountSummary } from './summary';
export { requestVerificationCode } from './verification';
