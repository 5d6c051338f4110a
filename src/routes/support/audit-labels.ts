import { m } from '$lib/paraglide/messages';
import { countryName } from './status-labels';

/** R22: audit events as words. Actions and detail keys map to `con_audit_action_*` / `con_detail_*`. */
type Message = (() => string) | undefined;
const messages = m as unknown as Record<string, Message>;

// An action or key written by a later version without a label yet still reads, as its code.
export const actionLabel = (action: string): string =>
	messages[`con_audit_action_${action.replace(/\./g, '_')}`]?.() ?? action;

export const detailLabel = (key: string): string => messages[`con_detail_${key}`]?.() ?? key;

const COUNTRY_KEYS = new Set(['ipCountry', 'country', 'sessionCountry']);

export function detailValue(key: string, value: string | number | boolean | null): string {
	if (value === null) return m.con_none();
	if (typeof value === 'boolean') return value ? m.con_yes() : m.con_no();
	if (typeof value === 'string' && COUNTRY_KEYS.has(key)) return countryName(value);
	return String(value);
}

export function actorLabel(kind: string, name: string | null): string {
	if (kind === 'agent') return m.con_actor_agent({ name: name ?? '?' });
	if (kind === 'admin') return m.con_actor_admin({ name: name ?? '?' });
	if (kind === 'account') return m.con_actor_account();
	if (kind === 'system') return m.con_actor_system();
	return m.con_actor_anonymous();
}
