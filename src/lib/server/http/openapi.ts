import { z } from 'zod';
import { apiErrorBody } from '$lib/schemas/responses';
import { OPERATIONS, TAGS, type Operation } from './openapi-operations';

/**
 * The OpenAPI 3.1 document of `/api/v1` (docs/api.md in machine form), served at `GET /api/v1/openapi.json` and
 * linted by `npm run check`. Built from the zod schemas the routes parse with and answer with;
 * nothing here is a second copy of a shape. docs/api.md stays the readable guide.
 */

type Json = Record<string, unknown>;

/** JSON Schema 2020-12, which OpenAPI 3.1 uses as is (zod's own `$schema` line dropped). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
	const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
	return rest;
}

/** The codes whose answer carries `Retry-After` (and `error.retryAfter`, the same seconds). */
const RETRY = new Set(['rate_limited', 'unavailable', 'busy']);

const GENERIC: Record<string, string> = {
	invalid_json: 'the body is not a JSON object',
	invalid_request: 'the body does not fit the schema; `fields` names every refused field',
	forbidden_origin: "a state-changing request from another site's page (Origin, Sec-Fetch-Site)",
	request_too_large: 'the body is over its limit',
	unsupported_media_type: 'the body is not of the expected content type',
	unauthenticated: 'no valid session (or token)',
	unavailable: 'the database does not answer'
};

/** The error codes an operation answers, by status: its own and the ones every endpoint shares. */
function errorCodes(op: Operation): Map<number, string[]> {
	const codes = new Map<number, string[]>();
	const add = (status: number, ...more: string[]) =>
		codes.set(status, [...new Set([...(codes.get(status) ?? []), ...more])]);
	if (op.body) add(400, 'invalid_json', 'invalid_request');
	if (op.multipart) add(400, 'invalid_request');
	if (op.auth === 'session' || op.auth === 'internalToken') add(401, 'unauthenticated');
	if (op.method !== 'get') add(403, 'forbidden_origin');
	if (op.body || op.multipart) add(413, 'request_too_large');
	if (op.body || op.multipart) add(415, 'unsupported_media_type');
	for (const [status, own] of Object.entries(op.errors)) add(Number(status), ...(own ?? []));
	// Every operation: a request with a session cookie has the session read in the hooks (§2).
	add(503, 'unavailable');
	return new Map([...codes].sort(([a], [b]) => a - b));
}

function errorResponse(op: Operation, status: number, codes: string[]): Json {
	const headers: Json = {};
	if (codes.some((code) => RETRY.has(code)))
		headers['Retry-After'] = {
			description:
				'Seconds to wait, as `error.retryAfter`; with `' +
				codes.filter((code) => RETRY.has(code)).join('`, `') +
				'`',
			required: codes.every((code) => RETRY.has(code)),
			schema: { type: 'integer', minimum: 1 }
		};
	if (op.auth === 'internalToken' && status === 401)
		headers['WWW-Authenticate'] = {
			description: '`Bearer`',
			required: true,
			schema: { type: 'string' }
		};
	return {
		description: codes
			.map((code) => `\`${code}\`${GENERIC[code] ? `: ${GENERIC[code]}` : ''}`)
			.join('; '),
		...(Object.keys(headers).length ? { headers } : {}),
		content: {
			'application/json': {
				schema: jsonSchema(apiErrorBody(codes as [string, ...string[]]), 'output')
			}
		}
	};
}

const operationId = (op: Operation) =>
	op.method +
	op.path
		.replace(/^\/api\/v1/, '')
		.split(/[/{}.-]+/)
		.filter(Boolean)
		.map((word) => word[0]!.toUpperCase() + word.slice(1))
		.join('');

function operation(op: Operation): Json {
	const parameters = [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
		name,
		in: 'path',
		required: true,
		schema: { type: 'string', maxLength: 128 }
	}));
	const requestBody = op.body
		? { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } }
		: op.multipart
			? {
					required: true,
					content: { 'multipart/form-data': { schema: jsonSchema(op.multipart, 'input') } }
				}
			: undefined;
	const responses: Json = {};
	for (const [status, answer] of Object.entries(op.answers)) {
		if (!answer) continue;
		responses[status] = {
			description: answer.description,
			...(answer.schema
				? { content: { 'application/json': { schema: jsonSchema(answer.schema, 'output') } } }
				: {})
		};
	}
	for (const [status, codes] of errorCodes(op))
		responses[status] = errorResponse(op, status, codes);
	return {
		operationId: operationId(op),
		tags: [op.tag],
		summary: op.summary,
		security: op.auth ? [{ [op.auth]: [] }] : [],
		...(parameters.length ? { parameters } : {}),
		...(requestBody ? { requestBody } : {}),
		responses
	};
}

/** The document itself (its own path included). */
export function openApiDocument(): Json {
	const paths: Record<string, Json> = {};
	for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
	paths['/api/v1/openapi.json'] = {
		get: {
			operationId: 'getOpenapiJson',
			tags: ['document'],
			summary: 'This OpenAPI 3.1 document',
			security: [],
			responses: {
				200: {
					description: 'OpenAPI 3.1 (JSON Schema 2020-12)',
					content: { 'application/json': { schema: { type: 'object' } } }
				}
			}
		}
	};
	return {
		openapi: '3.1.0',
		info: {
			title: 'Account Security Check API',
			version: '1.0.0',
			description:
				'The JSON API under `/api/v1`. The readable guide, with every rule it enforces, is docs/api.md. ' +
				'Every error has the body `{"error": {"code", "message", "fields"?}}`; `code` is stable. ' +
				'Cookies (`session`, `registration`, `pending_sign_in`, `check_grant`, `passkey_challenge`, ' +
				'`device`) are kept as any cookie jar keeps them.',
			license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' }
		},
		servers: [{ url: '/', description: 'This server' }],
		tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
		paths,
		components: {
			securitySchemes: {
				session: {
					type: 'apiKey',
					in: 'cookie',
					name: 'session',
					description: 'The session cookie (`__Host-session` over https), set by a sign-in'
				},
				internalToken: {
					type: 'http',
					scheme: 'bearer',
					description: 'INTERNAL_API_TOKEN (R11)'
				},
				appealToken: {
					type: 'http',
					scheme: 'bearer',
					description: "The appeal's `statusToken`, shown once when it was filed"
				}
			}
		}
	};
}
