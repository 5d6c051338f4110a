/**
 * accounts/ — a buyer's account and getting into it: registration (R3, R5, R8, R9, R10),
 * passwords (R5), sign-in with its growing delays (R15), sessions, password reset (R18), the
 * device signal (R10) and low activity (R11); the owner's sessions and devices, new-device alerts
 * and "this wasn't me", password change and breached-password screening (§3, §7a).
 * Other folders import it only through this file.
 */

export { listAccountSessions, revokeAccountSession, revokeOtherSessions } from './account-sessions';
export { confirmCurrentPassword, refuseIfFrozen } from './current-password';
export { deviceFromToken } from './devices';
export { findAccountByIdentifier, rebindDueTo } from './find';
export { agentLiftFreeze, freezeByContactProof, freezeOwnAccount } from './freeze';
export { isLowActivity, recordFirstOrder } from './low-activity';
export { noteSignInDevice } from './new-device-alert';
export { changePassword } from './password-change';
export {
	confirmPasswordReset,
	confirmPasswordResetByLink,
	pendingPasswordReset,
	requestPasswordReset
} from './password-reset';
export { checkPassword, hashPassword, verifyAgainstNothing, verifyPassword } from './passwords';
export {
	confirmRegistration,
	ipCountryMismatch,
	pendingRegistration,
	resendRegistrationCode,
	startRegistration
} from './registration';
export type { CodeSent } from './registration';
export {
	SESSION_IDLE_TIMEOUT_MS,
	createSession,
	generateSessionToken,
	invalidateAccountSessions,
	invalidateSession,
	validateSessionToken,
	writeAtEpoch
} from './sessions';
export type { Session } from './sessions';
export { SECURE_LINK_LIFETIME_MS, issueSecureAccountLink, secureAccount } from './secure-account';
export { auditSignedIn, beginAttempt, signIn, signInRules } from './sign-in';
export { confirmReauth, openSudoWindow, sudoUntil } from './sudo';
export type { Reauth } from './sudo';
