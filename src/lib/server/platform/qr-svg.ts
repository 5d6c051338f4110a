import QRCode from 'qrcode';

/**
 * A QR code as an SVG data URL, drawn on the server (no script, no request to anyone else): the
 * TOTP set-up page shows it with JavaScript off too. CSP allows `data:` images.
 */
export async function qrDataUrl(text: string): Promise<string> {
	const svg = await QRCode.toString(text, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
	return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}
