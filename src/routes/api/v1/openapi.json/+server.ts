import { json } from '@sveltejs/kit';
import { openApiDocument } from '$lib/server/http/openapi';
import type { RequestHandler } from './$types';

/**
 * Issue 24: the OpenAPI 3.1 document of /api/v1, no session needed. Cacheable, but only by the
 * browser: the hooks may add a `device` cookie to any answer, which no shared cache may keep.
 */
export const GET: RequestHandler = () =>
	json(openApiDocument(), { headers: { 'cache-control': 'private, max-age=3600' } });
