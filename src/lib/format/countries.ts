/** A country list as a picker shows it: each code with its name in the locale, sorted by name. */
export interface CountryOption {
	code: string;
	name: string;
}

const cache = new Map<string, { countries: readonly string[]; options: CountryOption[] }>();

/**
 * Named and sorted once per locale and list: every page with a country picker rendered ~250
 * `Intl.DisplayNames` lookups and a `localeCompare` sort (an ICU collator per comparison) on
 * each server render, which was a quarter of `GET /` (docs/BENCHMARKS.md).
 */
export function countryOptions(countries: readonly string[], locale: string): CountryOption[] {
	const cached = cache.get(locale);
	if (cached && cached.countries === countries) return cached.options;
	const names = new Intl.DisplayNames([locale], { type: 'region' });
	const collator = new Intl.Collator(locale);
	const options = countries
		.map((code) => ({ code, name: names.of(code) ?? code }))
		.sort((a, b) => collator.compare(a.name, b.name));
	cache.set(locale, { countries, options });
	return options;
}
