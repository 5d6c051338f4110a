import {
	isSupportedCountry,
	parsePhoneNumberFromString,
	type CountryCode
} from 'libphonenumber-js/max';
import { domainToASCII } from 'node:url';
import { m } from '$lib/paraglide/messages';

/**
 * R1, R2, R4: the one place that turns what a person typed into the normalized identifier the
 * database compares (R3) and the masked form shown outside owner and agent views.
 */
export type Identifier = { kind: 'email'; value: string } | { kind: 'phone'; value: string };

export type IdentifierProblem =
	| 'empty'
	| 'too_long'
	| 'forbidden_characters'
	| 'email_malformed'
	| 'phone_invalid'
	| 'phone_needs_country';

export type ParsedIdentifier =
	{ ok: true; identifier: Identifier } | { ok: false; problem: IdentifierProblem };

const MAX_INPUT = 320;
// Control characters (CR, LF, NUL, …), zero-width and bidi controls never belong in an identifier:
// they hide header injection and make two identifiers look the same.
const FORBIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
// RFC 5322 dot-atom; quoted local parts are refused on purpose (no provider needs them here).
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
// Separators people type in phone numbers; digits may be any script libphonenumber knows.
const PHONE_CHARS = /^\+?[\p{Nd}\s\-()./]+$/u;

function fail(problem: IdentifierProblem): ParsedIdentifier {
	return { ok: false, problem };
}

export function isCountryCode(value: string): value is CountryCode {
	return /^[A-Z]{2}$/.test(value) && isSupportedCountry(value);
}

/**
 * Parses an email or phone number. `country` (ISO 3166-1 alpha-2) is the country chosen for
 * numbers typed without a country code (R2).
 */
export function parseIdentifier(raw: string, country?: string): ParsedIdentifier {
	if (raw.length > MAX_INPUT) return fail('too_long');
	// NFKC folds full-width input from CJK keyboards (ｊｏｈｎ＠ｇｍａｉｌ．ｃｏｍ, ＋８６) to ASCII.
	const text = raw.normalize('NFKC').trim();
	if (text === '') return fail('empty');
	if (FORBIDDEN.test(text)) return fail('forbidden_characters');
	return text.includes('@') ? parseEmail(text) : parsePhone(text, country);
}

function parseEmail(text: string): ParsedIdentifier {
	const at = text.lastIndexOf('@');
	const local = text.slice(0, at).toLowerCase();
	const domainInput = text.slice(at + 1);
	// R1: plus-tags and dots are kept; the whole address is compared case-insensitively.
	if (local.length === 0 || local.length > 64 || !LOCAL_PART.test(local))
		return fail('email_malformed');
	if (domainInput === '' || domainInput.startsWith('[')) return fail('email_malformed');
	// R1: IDN domains compared in their ASCII (punycode) form; UTS #46 also lower-cases.
	const domain = domainToASCII(domainInput);
	if (domain === '' || domain.length > 253) return fail('email_malformed');
	const labels = domain.split('.');
	if (labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l)))
		return fail('email_malformed');
	if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return fail('email_malformed');
	const value = `${local}@${domain}`;
	if (value.length > 254) return fail('too_long');
	return { ok: true, identifier: { kind: 'email', value } };
}

function parsePhone(text: string, country?: string): ParsedIdentifier {
	if (!PHONE_CHARS.test(text))
		return fail(/[a-z]/i.test(text) ? 'email_malformed' : 'phone_invalid');
	const compact = text.replace(/[\s\-()./]/g, '');
	// R2: a leading 00 is the international prefix most countries dial.
	const international = compact.startsWith('+')
		? compact
		: compact.startsWith('00')
			? `+${compact.slice(2)}`
			: null;
	let parsed;
	if (international) {
		parsed = parsePhoneNumberFromString(international);
	} else {
		if (!country || !isCountryCode(country)) return fail('phone_needs_country');
		parsed = parsePhoneNumberFromString(compact, country);
	}
	if (!parsed || !parsed.isValid() || parsed.ext) return fail('phone_invalid');
	return { ok: true, identifier: { kind: 'phone', value: parsed.number } };
}

/** R4: `j***n@g***.com`, `+86 138****5678`. */
export function maskIdentifier(id: Identifier): string {
	return id.kind === 'email' ? maskEmail(id.value) : maskPhone(id.value);
}

function maskEmail(value: string): string {
	const at = value.lastIndexOf('@');
	const local = value.slice(0, at);
	const domain = value.slice(at + 1);
	const maskedLocal =
		local.length <= 2 ? `${local[0]}***` : `${local[0]}***${local[local.length - 1]}`;
	const tld = domain.slice(domain.lastIndexOf('.') + 1);
	return `${maskedLocal}@${domain[0]}***.${tld}`;
}

function maskPhone(e164: string): string {
	const parsed = parsePhoneNumberFromString(e164);
	const cc = parsed?.countryCallingCode ?? '';
	const nsn = parsed?.nationalNumber ?? e164.replace(/^\+/, '');
	// Long (mobile) numbers keep the familiar 3…4 shape; shorter ones hide more than half.
	const [head, tail] = nsn.length >= 11 ? [3, 4] : [2, 2];
	const hidden = '*'.repeat(Math.max(nsn.length - head - tail, 4));
	return `+${cc} ${nsn.slice(0, head)}${hidden}${nsn.slice(-tail)}`;
}

const PROBLEM_MESSAGES: Record<IdentifierProblem, () => string> = {
	empty: m.identifier_empty,
	too_long: m.identifier_too_long,
	forbidden_characters: m.identifier_forbidden_characters,
	email_malformed: m.identifier_email_malformed,
	phone_invalid: m.identifier_phone_invalid,
	phone_needs_country: m.identifier_phone_needs_country
};

/** The problem in the request's language (R1: say exactly what is wrong with the email). */
export function identifierProblemMessage(problem: IdentifierProblem): string {
	return PROBLEM_MESSAGES[problem]();
}

/** The contacts an account row binds now (R1, R2): its email, then its phone. */
export function boundContacts(account: {
	email: string | null;
	phone: string | null;
}): Identifier[] {
	const contacts: Identifier[] = [];
	if (account.email) contacts.push({ kind: 'email', value: account.email });
	if (account.phone) contacts.push({ kind: 'phone', value: account.phone });
	return contacts;
}

/** R4: a stored identifier (normalized when it was stored), masked; `***` if it no longer parses. */
export function maskStoredIdentifier(value: string): string {
	const parsed = parseIdentifier(value);
	return parsed.ok ? maskIdentifier(parsed.identifier) : '***';
}
