/**
 * R9, R12: the first region the browser's languages name (`zh-CN` → `CN`), among `countries`, as
 * the intended country's default when the network's country is unknown. A bare language (`en`)
 * names no region and is skipped: guessing a country from it would often be wrong.
 */
export function languageRegion(
	languages: readonly string[],
	countries: readonly string[]
): string | undefined {
	for (const tag of languages) {
		let region: string | undefined;
		try {
			region = new Intl.Locale(tag).region;
		} catch {
			continue;
		}
		if (region && countries.includes(region)) return region;
	}
	return undefined;
}
