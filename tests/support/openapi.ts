import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Ctx } from '../../src/lib/server/core/context';
import { openApiDocument } from '../../src/lib/server/http/openapi';
import { callEndpoint, ENDPOINT_ORIGIN, type CookieJar } from './endpoints';

/**
 * Issue 24: the OpenAPI document of /api/v1 judged against the server's real answers. `apiFetch`
 * is a `fetch` that reaches the route through the real hooks in this process (what openapi-fetch
 * and the contract test call); `Contract` validates each answer with ajv (JSON Schema 2020-12,
 * OpenAPI 3.1's dialect) and remembers which documented answers were seen.
 */

const routeFiles = import.meta.glob<Record<string, unknown>>('/src/routes/api/v1/**/+server.ts');

/** `/src/routes/api/v1/a/[id]/+server.ts` → `/api/v1/a/{id}`, the document's spelling. */
export const routePathOf = (file: string) =>
	file
		.replace(/^\/src\/routes/, '')
		.replace(/\/\+server\.ts$/, '')
		.replace(/\[(\w+)\]/g, '{$1}');

export const API_ROUTE_PATHS = Object.keys(routeFiles).map(routePathOf);

const templateRegex = (template: string) =>
	new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`);

/** The document path a concrete pathname is on (fewest parameters first, as SvelteKit picks). */
export function templateOf(pathname: string, templates: string[]): string | undefined {
	return templates
		.filter((template) => templateRegex(template).test(pathname))
		.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

export interface ApiFetchOptions {
	jar?: CookieJar;
	clientAddress?: string;
	/** Called with every answer before it is returned (the contract's check). */
	observe?: (request: Request, response: Response) => Promise<void>;
}

/** A `fetch` answering /api/v1 from the route modules through the real hooks over `app`. */
export function apiFetch(app: Ctx, options: ApiFetchOptions = {}) {
	return async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
		const request = new Request(input, init);
		const url = new URL(request.url);
		const file = Object.keys(routeFiles).find(
			(candidate) =>
				routePathOf(candidate) ===
				templateOf(url.pathname, Object.keys(routeFiles).map(routePathOf))
		);
		if (!file) throw new Error(`apiFetch: no route for ${url.pathname}`);
		const handler = (await routeFiles[file]!())[request.method];
		if (typeof handler !== 'function')
			throw new Error(`apiFetch: no ${request.method} ${url.pathname}`);
		const copy = request.clone();
		const body = request.body ? await request.arrayBuffer() : undefined;
		const headers = Object.fromEntries(request.headers);
		if (!options.jar && request.headers.has('cookie'))
			headers.cookie = request.headers.get('cookie')!;
		const response = await callEndpoint(handler as (event: never) => Promise<Response>, app, {
			method: request.method,
			path: url.pathname + url.search,
			body,
			headers,
			jar: options.jar,
			clientAddress: options.clientAddress
		});
		await options.observe?.(copy, response.clone());
		return response;
	};
}

type Json = Record<string, unknown>;
const RETRY_CODES = new Set(['rate_limited', 'busy', 'unavailable']);
type Documented = Json & { content?: Record<string, { schema: Json }>; headers?: Json };

/** The document, an ajv validator per documented answer, and which answers were seen. */
export class Contract {
	readonly document = openApiDocument() as Json & { paths: Record<string, Record<string, Json>> };
	readonly seen = new Set<string>();
	private readonly ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
	private readonly validators = new Map<string, ValidateFunction>();

	constructor() {
		addFormats.default(this.ajv);
		// OpenAPI's own keyword beside JSON Schema's (zod writes none, but the document may).
		this.ajv.addKeyword('example');
	}

	/** Every documented answer: `METHOD path status`. */
	documented(): string[] {
		return Object.entries(this.document.paths).flatMap(([path, item]) =>
			Object.entries(item).flatMap(([method, op]) =>
				Object.keys((op as { responses: Json }).responses).map(
					(status) => `${method.toUpperCase()} ${path} ${status}`
				)
			)
		);
	}

	/** Every documented error code: `METHOD path status code`. */
	documentedCodes(): string[] {
		return this.documented().flatMap((answer) => {
			const [method, path, status] = answer.split(' ') as [string, string, string];
			const op = this.document.paths[path]![method.toLowerCase()] as {
				responses: Record<string, Documented>;
			};
			const schema = op.responses[status]!.content?.['application/json']?.schema as
				{ properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } | undefined;
			const codes = schema?.properties?.error?.properties?.code?.enum ?? [];
			return codes.map((code) => `${answer} ${code}`);
		});
	}

	/** Problems with one answer: an undocumented status, a body or a header the document does not say. */
	async problems(request: Request, response: Response): Promise<string[]> {
		const path = templateOf(new URL(request.url).pathname, Object.keys(this.document.paths));
		const method = request.method.toLowerCase();
		const op = path ? this.document.paths[path]?.[method] : undefined;
		const at = `${request.method} ${path ?? new URL(request.url).pathname} ${response.status}`;
		if (!op) return [`${at}: no such operation in the document`];
		const documented = (op.responses as Record<string, Documented>)[String(response.status)];
		if (!documented) return [`${at}: status not documented`];
		this.seen.add(at);
		const problems: string[] = [];
		const text = await response.text();
		const schema = documented.content?.['application/json']?.schema;
		if (!schema) {
			if (text !== '') problems.push(`${at}: a body the document does not describe`);
		} else {
			if (!/^application\/json/.test(response.headers.get('content-type') ?? ''))
				problems.push(`${at}: content-type ${response.headers.get('content-type')}`);
			const key = `${at} body`;
			let validate = this.validators.get(key);
			if (!validate) this.validators.set(key, (validate = this.ajv.compile(schema)));
			const body = JSON.parse(text) as { error?: { code?: unknown } };
			if (!validate(body))
				problems.push(`${at}: ${this.ajv.errorsText(validate.errors)} in ${text}`);
			else if (body.error) {
				this.seen.add(`${at} ${String(body.error.code)}`);
				// docs/api.md §2: these codes say when to come back, in the header too.
				if (RETRY_CODES.has(String(body.error.code)) && !response.headers.has('retry-after'))
					problems.push(`${at} ${String(body.error.code)}: no Retry-After`);
			}
		}
		for (const [name, header] of Object.entries(documented.headers ?? {}))
			if ((header as { required?: boolean }).required && !response.headers.has(name))
				problems.push(`${at}: header ${name} missing`);
		return problems;
	}
}

export { ENDPOINT_ORIGIN };
