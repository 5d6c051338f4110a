/**
 * Dates for people: in their language and their time zone (the same on the server and in the
 * browser, see time-zones.ts: no change after hydration), the zone always named, with
 * "in 3 days"-style relative text.
 */
export interface FormatOptions {
	locale: string;
	/** An IANA zone (`chooseTimeZone`, `currentTimeZone()`); the server and browser use the same. */
	timeZone: string;
	timeOnly?: boolean;
	/** Adds the relative part, measured from this instant (ms). */
	relativeTo?: number;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
	['day', 86_400_000],
	['hour', 3_600_000],
	['minute', 60_000],
	['second', 1000]
];

function formatRelative(target: number, from: number, locale: string): string {
	const diff = target - from;
	const [unit, size] = UNITS.find(([, ms]) => Math.abs(diff) >= ms) ?? ['second', 1000];
	return new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(
		Math.round(diff / size),
		unit
	);
}

export function formatInstant(iso: string, options: FormatOptions): string {
	const date = new Date(iso);
	// Component options, not dateStyle/timeStyle: those cannot be combined with timeZoneName.
	const text = new Intl.DateTimeFormat(options.locale, {
		...(options.timeOnly
			? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
			: { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }),
		// The zone is always named: "18:32 GMT+8" cannot be misread as another zone's time.
		timeZoneName: 'short',
		timeZone: options.timeZone
	}).format(date);
	if (options.relativeTo === undefined) return text;
	const relative = formatRelative(date.getTime(), options.relativeTo, options.locale);
	// Chinese takes full-width parentheses.
	return options.locale.startsWith('zh') ? `${text}（${relative}）` : `${text} (${relative})`;
}
