/**
 * two-step/ — buyers' two-step verification (§7a, §7c): TOTP set up with the password and a
 * code, secrets sealed with the key ring, codes never accepted twice; ten single-use recovery
 * codes stored as keyed hashes; passkeys (WebAuthn, @simplewebauthn/server) as a second factor
 * and, discoverable, as a first; sign-ins waiting for their second factor (a pending cookie,
 * only its hash stored) with the password step's growing delays; everything off after an
 * approved appeal (R21). Other folders import it only through this file.
 */

export {
	confirmTotpSetup,
	disableTotp,
	echoTotpSetup,
	hasTotp,
	startTotpSetup,
	throttledSecondFactorCode
} from './totp';
export { countRecoveryCodes } from './recovery-codes';
export { regenerateRecoveryCodes } from './regenerate';
export { createPendingSignIn } from './pending';
export { pendingSignInMethods, secondFactorMethods, twoStepSummary } from './methods';
export type { SecondFactorMethod } from './methods';
export { verifySecondFactor } from './second-factor';
export type { SignInProof } from './second-factor';
export { listPasskeys, removePasskey, renamePasskey } from './passkeys';
export { passkeyRegistrationOptions, registerPasskey } from './passkey-registration';
export { passkeySignInOptions, verifyPasskeySignIn } from './passkey-sign-in';
export { turnOffTwoStep } from './turn-off';
