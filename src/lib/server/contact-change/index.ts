/**
 * contact-change/ — changing the bound contact: the quota (R16: 2 in 180 days, 7 days apart)
 * and the two steps with their effects (R17: sessions end, codes die, both contacts told);
 * `rebindContact`, the one place a bound contact is replaced, for the owner and for an approved
 * appeal (R21).
 * Imported only through this file.
 */

export {
	confirmContactChange,
	pendingChangeContact,
	pendingContactChange,
	resendContactChangeCode,
	startContactChange
} from './change';
export { contactChangeQuota, quotaView, readQuota } from './quota';
export { heldByAnotherAccount, isContactTaken, rebindContact } from './rebind';
