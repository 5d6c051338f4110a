/**
 * retention/ — how long each table keeps its rows (docs/DATA.md): the hourly trimming and the
 * check-event roll-ups (R15 history), and identity documents deleted after the decision (R19).
 * Imported only through this file.
 */

export { purgeExpiredDocuments } from './documents';
export { startRetention } from './tables';
