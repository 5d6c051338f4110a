/**
 * messaging/ — everything sent to a person: verification codes (R6: 6 digits, 5 minutes,
 * 60-second resend, 5 tries), the caps on sending them, message templates, the transactional
 * outbox and its delivery worker with retries (R7), and the SMTP / SMS transports.
 * Imported only through this file.
 */

export { sendCode } from './code-delivery';
export { smsBudgetSpent, smsDestinationProblem } from './sms-guard';
export {
	CODE_LIFETIME_MS,
	codePayload,
	consumeAccountCode,
	consumeCode,
	isCodeExhausted,
	isCodeLive,
	liveAccountCode,
	liveCode,
	looksLikeCode,
	replaceCodePayload,
	resendCooldown,
	revokePendingCodes,
	unusedCodeWithPayload,
	verifyCode
} from './codes';
export {
	accountFrozenMessage,
	freezeLiftedMessage,
	passwordResetCodeMessage
} from './freeze-templates';
export { registerMessagingGauges } from './gauges';
export { enqueueMessage, listOutboxFor, listRecentOutbox } from './outbox';
export type { OutgoingMessage } from './outbox';
export {
	asLocale,
	messageLink,
	contactChangedMessage,
	messageTo,
	newDeviceMessage,
	passwordChangedMessage,
	passwordResetMessage
} from './templates';
export * from './deletion-templates';
export * from './recovery-templates';
export { createTransports, devOutboxAllowed } from './transports';
export { twoStepChangedMessage, withAlertsPaused } from './two-step-templates';
export type { TwoStepChange } from './two-step-templates';
export { createOutboxWorker } from './worker';
