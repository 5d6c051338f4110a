/** A country list as a picker shows it: each code with its name in the locale, sorted by name. */
interface CountryOption {
	code: string;
	name: string;
}

const cache = new Map<string, { countries: readonly string[]; options: CountryOption[] }>();

/**
 * Named and sorted once per locale and list: every page with a country picker rendered ~250
 * `Intl.DisplayNames` lookups and a `localeCompare` sort (an ICU collator per comparison) on
 * each server render, which was a quarter of `GET /` (docs/BENCHMARKS.md).
 */
function countryOptions(countries: readonly string[], locale: string): CountryOption[] {
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

const escapeHtml = (text: string) =>
	text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('"', '&quot;');
const htmlCache = new Map<string, { countries: readonly string[]; html: string }>();

/**
 * The same options as `<option>` markup, built once per locale: the server renders the picker as
 * one string instead of ~250 option elements each time (a tenth of `GET /`), with `selected`
 * marking the chosen country so the page is right with JavaScript off.
 */
export function countryOptionsHtml(
	countries: readonly string[],
	locale: string,
	selected: string | null
): string {
	let cached = htmlCache.get(locale);
	if (!cached || cached.countries !== countries) {
		const html = countryOptions(countries, locale)
			.map(({ code, name }) => `<option value="${escapeHtml(code)}">${escapeHtml(name)}</option>`)
			.join('');
		cached = { countries, html };
		htmlCache.set(locale, cached);
	}
	if (!selected || !countries.includes(selected)) return cached.html;
	const mark = `<option value="${escapeHtml(selected)}">`;
	return cached.html.replace(mark, `<option value="${escapeHtml(selected)}" selected>`);
}

const regionNames = new Map<string, Intl.DisplayNames>();

/** A country's name in the locale ("美国" for `US` in zh-CN), the code itself if Intl has none. */
export function regionName(code: string, locale: string): string {
	let names = regionNames.get(locale);
	if (!names)
		regionNames.set(locale, (names = new Intl.DisplayNames([locale], { type: 'region' })));
	return names.of(code) ?? code;
}
