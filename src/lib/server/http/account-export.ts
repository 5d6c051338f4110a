import type { AccountExport } from '../data-rights';
import { exportFileName } from '../data-rights';

/**
 * R28: the owner's copy as a download — the API's answer and the account page's form (JavaScript
 * off) send the same file. Never cached; the name carries the date only.
 */
export function exportDownload(data: AccountExport): Response {
	return new Response(JSON.stringify(data, null, '\t'), {
		status: 200,
		headers: {
			'content-type': 'application/json; charset=utf-8',
			'content-disposition': `attachment; filename="${exportFileName(data)}"`,
			'cache-control': 'no-store'
		}
	});
}
