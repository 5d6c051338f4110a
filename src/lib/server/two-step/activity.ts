import { deviceLabel, type RequestMeta } from '../core/request-meta';

/** Where a two-step change came from, as the owner's security activity shows it (no address). */
export function seenFrom(meta: RequestMeta): { ipCountry: string | null; device: string | null } {
	return { ipCountry: meta.ipCountry, device: deviceLabel(meta.userAgent) };
}
