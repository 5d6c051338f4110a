/**
 * checkup/ — the signed-in owner's security checkup (docs/rules.md §7c): bound
 * contact, two-step, sessions, recent security events and password age, each done or to do, read
 * from accounts/ and two-step/. Other folders import it only through this file.
 */

export { securityCheckup } from './checkup';
