import { m } from '$lib/paraglide/messages';
import { countryName, roleLabel } from './status-labels';

/** R22: audit events as words. Actions and detail keys map to `con_audit_action_*` / `con_detail_*`. */
type Message = (() => string) | undefined;
const messages = m as unknown as Record<string, Message>;

// An action or key written by a later version without a label yet still reads, as its code.
export const actionLabel = (action: string): string =>
	messages[`con_audit_action_${action.replace(/\./g, '_')}`]?.() ?? action;

export const detailLabel = (key: string): string => messages[`con_detail_${key}`]?.() ?? key;

const ACTION_KEY = 'con_audit_action_';
const GROUP_KEY = 'con_audit_group_';

/**
 * R22: every action the log can name, from its labels: `con_audit_action_appeal_document_viewed`
 * is `appeal.document_viewed` (the first word names the group and never holds an underscore).
 */
export const auditActions: readonly string[] = Object.keys(messages)
	.filter((key) => key.startsWith(ACTION_KEY))
	.map((key) => key.slice(ACTION_KEY.length).replace('_', '.'));

/** The filter's groups ("appeal." lists every appeal action), each with its label. */
export const auditGroups = Object.keys(messages)
	.filter((key) => key.startsWith(GROUP_KEY))
	.map((key) => ({
		prefix: `${key.slice(GROUP_KEY.length)}.`,
		label: messages[key] as () => string
	}));

const COUNTRY_KEYS = new Set(['ipCountry', 'country', 'sessionCountry']);

/** Values that are codes in the log, said as words: a sign-in method, an agent's role. */
const VALUE_LABELS: Record<string, (value: string) => string | undefined> = {
	method: (value) => messages[`con_value_method_${value}`]?.(),
	role: (value) => (value === 'agent' || value === 'admin' ? roleLabel[value]() : undefined)
};

export function detailValue(key: string, value: string | number | boolean | null): string {
	if (COUNTRY_KEYS.has(key) && (value === null || typeof value === 'string'))
		return countryName(value);
	if (value === null) return m.con_none();
	if (typeof value === 'boolean') return value ? m.con_yes() : m.con_no();
	if (typeof value === 'string') return VALUE_LABELS[key]?.(value) ?? value;
	return String(value);
}

export function actorLabel(kind: string, name: string | null): string {
	if (kind === 'agent') return m.con_actor_agent({ name: name ?? '?' });
	if (kind === 'admin') return m.con_actor_admin({ name: name ?? '?' });
	if (kind === 'account') return m.con_actor_account();
	if (kind === 'system') return m.con_actor_system();
	return m.con_actor_anonymous();
}
