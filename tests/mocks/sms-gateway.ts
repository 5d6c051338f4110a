import { delay, http, HttpResponse } from 'msw';

/** Where tests point SMS_GATEWAY_URL; port 9 (discard) so a missed mock can never reach anything. */
export const SMS_GATEWAY_URL = 'http://127.0.0.1:9/sms';
export const SMS_GATEWAY_TOKEN = 'test-gateway-token';

export interface ReceivedSms {
	authorization: string | null;
	idempotencyKey: string | null;
	contentType: string | null;
	body: { to: string; text: string; reference: string };
}

export type GatewayBehaviour = 'ok' | 'server_error' | 'never_answers' | 'network_error';

/**
 * A fake SMS gateway: every request is recorded (also the failed ones), and the behaviour can be
 * switched between requests, e.g. `gateway.failNext(3, 'server_error')` for an outage of three.
 */
export function createSmsGateway(url = SMS_GATEWAY_URL) {
	const received: ReceivedSms[] = [];
	const outcomes: GatewayBehaviour[] = [];
	const queued: GatewayBehaviour[] = [];
	let behaviour: GatewayBehaviour = 'ok';

	const handler = http.post(url, async ({ request }) => {
		const how = queued.shift() ?? behaviour;
		outcomes.push(how);
		received.push({
			authorization: request.headers.get('authorization'),
			idempotencyKey: request.headers.get('idempotency-key'),
			contentType: request.headers.get('content-type'),
			body: (await request.json()) as ReceivedSms['body']
		});
		switch (how) {
			case 'ok':
				return HttpResponse.json(
					{ id: `gw-${received.length}`, status: 'queued' },
					{ status: 202 }
				);
			case 'server_error':
				return HttpResponse.json({ error: 'upstream unavailable' }, { status: 500 });
			case 'never_answers':
				await delay('infinite');
				return HttpResponse.error();
			case 'network_error':
				return HttpResponse.error();
		}
	});

	return {
		handlers: [handler],
		received,
		/** Accepted messages only, i.e. what reached a phone. */
		delivered: () => received.filter((_, i) => outcomes[i] === 'ok'),
		/** From now on, every request behaves like this. */
		setBehaviour(next: GatewayBehaviour) {
			behaviour = next;
		},
		/** The next `count` requests behave like this, then the standing behaviour resumes. */
		failNext(count: number, how: Exclude<GatewayBehaviour, 'ok'>) {
			for (let i = 0; i < count; i += 1) queued.push(how);
		}
	};
}
