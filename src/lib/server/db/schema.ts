import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Instants are stored as integer milliseconds since the epoch (bigint on PostgreSQL). */
type Millis = number;
type Flag = ColumnType<number, number | undefined, number>;

import type { AppealStatus } from '$lib/types/account';
import type { AccountStatus } from '$lib/types/check-report';

export type { AccountStatus, AppealStatus };
export type CodePurpose = 'register' | 'check' | 'contact_change' | 'password_reset' | 'appeal';

interface AccountsTable {
	id: string;
	/** R1: lower-cased, IDN domain in punycode. Unique (R3). */
	email: string | null;
	/** R2: E.164. Unique (R3). */
	phone: string | null;
	password_hash: string;
	status: AccountStatus;
	/** ISO 3166-1 alpha-2 chosen at registration (R9). */
	country: string;
	locale: string;
	created_at: Millis;
	/** R11: set by the order system's internal call. */
	first_order_at: Millis | null;
	/** R9 evidence: the registering request's IP country (null when unknown). */
	reg_ip_country: string | null;
	/** R10 evidence: the device that registered the account. */
	reg_device_id: string | null;
	/** R10: a second or later account from the same device. */
	multiple_accounts_on_device: Flag;
	review_decided_at: Millis | null;
	review_decided_by: string | null;
	/** When the password was last set (registration, reset, change); null for accounts before 0009. */
	password_changed_at: Millis | null;
	/** The owner froze the account (§7b): no sign-in, no contact or two-step change until lifted. */
	frozen_at: Millis | null;
	/** §7a: "this wasn't me" secured the account (0012); no sign-in after it is a first device. */
	secured_at: Millis | null;
	/** §8a: when the held rebind of an approved appeal falls due; null when none waits (0015). */
	rebind_due_at: Millis | null;
	/**
	 * §7a, the credential epoch (0016): every remedy that ends the account's sessions moves it on;
	 * a session or pending sign-in is written only while the epoch its sign-in read is current.
	 */
	session_epoch: Generated<number>;
	/** R28: the owner asked for the account's deletion; it is erased at this time (0020). */
	deletion_due_at: Millis | null;
}

/** The devices an account signed in from: a sign-in from one not listed alerts the owner. */
interface AccountDevicesTable {
	account_id: string;
	/** devices.id: SHA-256 of the device cookie's token. */
	device_id: string;
	first_seen_at: Millis;
	last_seen_at: Millis;
}

/** "This wasn't me" links of new-device alerts: single use, expiring; only the SHA-256 stored. */
interface SecureAccountTokensTable {
	id: string;
	account_id: string;
	created_at: Millis;
	expires_at: Millis;
	used_at: Millis | null;
}

interface DevicesTable {
	/** SHA-256 of the device cookie's token; the token itself is never stored. */
	id: string;
	created_at: Millis;
	last_seen_at: Millis;
}

export interface VerificationCodesTable {
	id: string;
	purpose: CodePurpose;
	/** Normalized email or E.164 phone the code was sent to. One row per (purpose, identifier, scope). */
	identifier: string;
	/**
	 * R6/R16: the account a `contact_change` code belongs to, '' for every other purpose; so two
	 * accounts changing to one new contact each keep their own code (`messaging/codes.ts`, `codeScope`).
	 */
	scope: Generated<string>;
	/** R6: only a hash of the code is stored. */
	code_hash: string;
	attempts: Generated<number>;
	created_at: Millis;
	expires_at: Millis;
	consumed_at: Millis | null;
	account_id: string | null;
	/** JSON the confirming step needs (e.g. the registration's password hash and country). */
	payload: string | null;
}

interface ContactChangesTable {
	id: string;
	account_id: string;
	/** R21: an appeal change counts in R16's window but is not blocked by it. */
	kind: 'owner' | 'appeal';
	old_identifier: string;
	new_identifier: string;
	changed_at: Millis;
}

interface SessionsTable {
	/** SHA-256 of the session token. */
	id: string;
	account_id: string;
	created_at: Millis;
	last_active_at: Millis;
	expires_at: Millis;
	ip: string | null;
	ip_country: string | null;
	user_agent: string | null;
	/** §7a (0018): the end of this session's re-authentication window, or null when none is open. */
	sudo_until: Millis | null;
}

interface AppealsTable {
	id: string;
	reference: string;
	status_token_hash: string;
	account_id: string | null;
	old_identifier: string;
	new_identifier: string;
	description: string;
	status: AppealStatus;
	locale: string;
	created_at: Millis;
	/** R20: created_at + 48 h. */
	due_at: Millis;
	updated_at: Millis;
	assigned_agent_id: string | null;
	decided_at: Millis | null;
	decided_by: string | null;
	decision_reason: string | null;
	/** R20: when the assigned agent claimed it. */
	claimed_at: Millis | null;
	/** R21 with APPEAL_REQUIRE_SECOND_APPROVAL: the first of two approvals. */
	first_approval_by: string | null;
	first_approval_at: Millis | null;
	/** §8a: the filing request's network country (evidence for agents); null when unknown. */
	ip_country: string | null;
	/** §8a: approved with a hold: when the rebind is due; null when none is waiting. */
	rebind_due_at: Millis | null;
	/** §8a: when the approved rebind was applied (once). */
	rebound_at: Millis | null;
	/** §8a: when the account's holder stopped the appeal, and how. */
	cancelled_at: Millis | null;
	cancelled_by: 'link' | 'owner' | null;
	/** §8a: the last reminder to the old contacts during the hold. */
	reminded_at: Millis | null;
}

/** §8a cancel links sent to the contacts bound when an appeal was filed: only the SHA-256 stored. */
interface RecoveryCancelTokensTable {
	id: string;
	appeal_id: string;
	account_id: string;
	created_at: Millis;
	expires_at: Millis;
	used_at: Millis | null;
}

/** R28: a deletion's cancel link, sent to every bound contact; only its token's hash (0020). */
interface DeletionCancelTokensTable {
	id: string;
	account_id: string;
	created_at: Millis;
	expires_at: Millis;
	used_at: Millis | null;
}

interface AppealDocumentsTable {
	id: string;
	appeal_id: string;
	storage_key: string;
	content_type: 'image/jpeg' | 'image/png' | 'application/pdf';
	byte_size: number;
	sha256: string;
	created_at: Millis;
	deleted_at: Millis | null;
	/** R19: sent with the appeal, or later in answer to a needs-info request. */
	source: ColumnType<'submission' | 'reply', 'submission' | 'reply' | undefined, never>;
	/** 0-based upload of the submission (or reply) this page came from; 1-based page of it. */
	upload_index: ColumnType<number, number | undefined, never>;
	page: ColumnType<number, number | undefined, never>;
	pages: ColumnType<number, number | undefined, never>;
	/** What the upload was by content (an image or a PDF); null for rows stored before 0008. */
	original_type: string | null;
}

/** R19: a document's content, encrypted with its own data key; the key sealed with the key ring. */
interface AppealDocumentContentsTable {
	document_id: string;
	wrapped_key: string;
	content: Uint8Array;
	created_at: Millis;
}

interface AppealMessagesTable {
	id: string;
	appeal_id: string;
	author_kind: 'agent' | 'appellant';
	author_id: string | null;
	body: string;
	created_at: Millis;
}

export interface AgentsTable {
	id: string;
	username: string;
	password_hash: string;
	role: 'agent' | 'admin';
	totp_key: string | null;
	created_at: Millis;
	disabled_at: Millis | null;
	/** The last TOTP time step accepted: a code is never accepted twice. */
	totp_last_step: Millis | null;
}

interface AgentSessionsTable {
	id: string;
	agent_id: string;
	created_at: Millis;
	last_active_at: Millis;
	expires_at: Millis;
	ip: string | null;
	second_factor_verified: Flag;
}

export interface AuditEventsTable {
	id: Generated<number>;
	at: Millis;
	actor_kind: 'agent' | 'admin' | 'account' | 'system' | 'anonymous';
	actor_id: string | null;
	action: string;
	subject_kind: string | null;
	subject_id: string | null;
	ip: string | null;
	/** JSON; never codes, passwords or whole identifiers (R4). */
	details: string | null;
}

export interface OutboxTable {
	id: string;
	channel: 'email' | 'sms';
	/** Normalized email or E.164 phone. */
	recipient: string;
	purpose: string;
	locale: string;
	/** Subject and text sealed with the key ring (outbox.ts); null once delivered or given up. */
	payload: string | null;
	status: 'pending' | 'sent' | 'dead';
	attempts: Generated<number>;
	next_attempt_at: Millis;
	locked_until: Millis | null;
	last_error: string | null;
	created_at: Millis;
	sent_at: Millis | null;
}

/** R27: one outbound webhook delivery (an event to one endpoint); webhooks/ writes and sends it. */
export interface WebhookDeliveriesTable {
	/** Delivery order per account and endpoint. */
	seq: Generated<number>;
	/** The Standard Webhooks `webhook-id` (`msg_…`), the same on every attempt. */
	id: string;
	endpoint: string;
	account_id: string;
	type: string;
	/** The JSON sent: masked contacts only, never codes, passwords or documents. */
	body: string;
	created_at: Millis;
	status: 'pending' | 'delivered' | 'failed';
	attempts: Generated<number>;
	next_attempt_at: Millis;
	locked_until: Millis | null;
	/** A short reason (HTTP status, timeout), never the receiver's answer. */
	last_error: string | null;
	delivered_at: Millis | null;
}

interface RateLimitsTable {
	key: string;
	points: number;
	reset_at: Millis;
}

interface CheckEventsTable {
	id: Generated<number>;
	at: Millis;
	/** HMACs, never the raw IP or identifier (R4). */
	ip_key: string;
	identifier_key: string;
	outcome: string;
}

/** R15: checks per completed hour and outcome, kept after the raw events go (retention.ts). */
interface CheckEventHoursTable {
	/** Start of the hour, ms since the epoch (a multiple of 3,600,000). */
	hour_start: Millis;
	outcome: string;
	count: number;
}

/** Two-step (§7a): one TOTP secret per account; `confirmed_at` null while being set up. */
interface AccountTotpTable {
	account_id: string;
	/** Sealed with the key ring ('account-totp', bound to account_id): never in clear at rest. */
	secret: string;
	created_at: Millis;
	confirmed_at: Millis | null;
	/** The last TOTP time step accepted: a code is never accepted twice. */
	last_step: number | null;
}

interface RecoveryCodesTable {
	/** Keyed HMAC of the normalized code (the key ring is outside the database). */
	code_hash: string;
	account_id: string;
	created_at: Millis;
}

interface PasskeysTable {
	/** The WebAuthn credential id, base64url. */
	id: string;
	account_id: string;
	/** COSE public key: nothing secret. */
	public_key: Uint8Array;
	counter: number;
	/** JSON array of the authenticator's transports, as the browser reported them. */
	transports: string | null;
	name: string;
	created_at: Millis;
	last_used_at: Millis | null;
	/** The WebAuthn user handle it was registered with, base64url (0014 filled in older ones). */
	user_handle: string | null;
}

interface WebauthnChallengesTable {
	/** SHA-256 of the challenge the server issued; single use. */
	id: string;
	kind: 'registration' | 'authentication';
	/** Registration: the signed-in account; authentication as a second factor: the pending one. */
	account_id: string | null;
	/** Authentication as a second factor: the pending sign-in it belongs to. */
	pending_id: string | null;
	expires_at: Millis;
}

interface PendingSignInsTable {
	/** SHA-256 of the pending cookie's token. */
	id: string;
	account_id: string;
	created_at: Millis;
	expires_at: Millis;
	/** The account's `session_epoch` when the password was checked; the session starts with it. */
	session_epoch: Generated<number>;
}

/** The key check (0017, core/key-check.ts): a fixed text sealed under each key id in use. */
interface KeyChecksTable {
	kid: string;
	sealed: string;
	created_at: Millis;
}

export interface Database {
	accounts: AccountsTable;
	devices: DevicesTable;
	account_devices: AccountDevicesTable;
	secure_account_tokens: SecureAccountTokensTable;
	verification_codes: VerificationCodesTable;
	contact_changes: ContactChangesTable;
	sessions: SessionsTable;
	appeals: AppealsTable;
	appeal_documents: AppealDocumentsTable;
	appeal_document_contents: AppealDocumentContentsTable;
	appeal_messages: AppealMessagesTable;
	agents: AgentsTable;
	agent_sessions: AgentSessionsTable;
	audit_events: AuditEventsTable;
	outbox: OutboxTable;
	rate_limits: RateLimitsTable;
	check_events: CheckEventsTable;
	check_event_hours: CheckEventHoursTable;
	account_totp: AccountTotpTable;
	recovery_codes: RecoveryCodesTable;
	passkeys: PasskeysTable;
	webauthn_challenges: WebauthnChallengesTable;
	pending_sign_ins: PendingSignInsTable;
	recovery_cancel_tokens: RecoveryCancelTokensTable;
	key_checks: KeyChecksTable;
	webhook_deliveries: WebhookDeliveriesTable;
	deletion_cancel_tokens: DeletionCancelTokensTable;
}

export type Account = Selectable<AccountsTable>;
export type NewAccount = Insertable<AccountsTable>;
