import { expect, type APIRequestContext } from '@playwright/test';

/** Reads the newest code sent to `to` through the test hook (docs/api.md), as a person reads a message. */
export async function latestCodeFor(request: APIRequestContext, to: string): Promise<string> {
	let code: string | undefined;
	await expect(async () => {
		const res = await request.get(`/api/test/outbox?to=${encodeURIComponent(to)}`);
		expect(res.status()).toBe(200);
		const { messages } = (await res.json()) as { messages: { code?: string }[] };
		code = messages[0]?.code;
		expect(code).toMatch(/^\d{6}$/);
	}).toPass({ timeout: 5_000 });
	return code!;
}
