import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import svelte from 'eslint-plugin-svelte';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

// ---------------------------------------------------------------------------------------------
// The layer rule for src/lib/server (see README / issue 14):
//
//   routes (src/routes, src/hooks.server.ts) -> http -> domains -> core / platform / db
//
// - core/, db/, platform/ import neither http/ nor any domain.
// - Below http/ (core/, db/, platform/, every domain) nothing imports '@sveltejs/kit' or '$app/*':
//   cookies and the RequestEvent are http/'s; domains return tokens, expiries and MACs.
// - A domain imports no http/, and another domain only through its index
//   ('../accounts' -> accounts/index.ts), never its internals ('../accounts/sessions').
//   Inside its own folder (subfolders included) any relative import is fine.
// - http/ may import anything in lib/server, other domains only through their index.
// - Routes import http/, core/, platform/ and domain indexes, never db/ (no SQL in routes).
// - Client code never imports $lib/server.
//
// no-restricted-imports sees the import string as written, not the resolved file, so each regex
// matches both spellings: '$lib/server/<folder>/...' and a relative '../<folder>/...' (any
// number of '../', which reaches src/lib/server from a file anywhere in a server folder).
// Flat config does not merge rule options: every file gets exactly one block below that sets
// no-restricted-imports, so the blocks must not overlap (except the client block, which comes
// last and replaces the routes block for .svelte files on purpose).
// ---------------------------------------------------------------------------------------------

const DOMAINS = [
	'accounts',
	'check',
	'contact-change',
	'data-rights',
	'appeals',
	'support',
	'messaging',
	'retention',
	'two-step',
	'checkup',
	'webhooks'
];
const INFRASTRUCTURE = ['core', 'db', 'platform'];

/** Start of an import of a lib/server folder from a file inside src/lib/server. */
const FROM_SERVER = String.raw`^(?:\$lib/server/|(?:\.\./)+)`;
/** Start of an import of a lib/server folder from a file outside src/lib/server (routes, hooks). */
const FROM_OUTSIDE = String.raw`^(?:\$lib/server/|(?:\.\./)+lib/server/)`;
/** After '<domain>/': anything but the index itself. */
const NOT_INDEX = String.raw`(?!index(?:\.[jt]s)?$).+`;

const any = (names) => `(?:${names.join('|')})`;

/** '<domain>/<anything but index>' for the given domains. */
const domainInternals = (prefix, domains) => ({
	regex: `${prefix}${any(domains)}/${NOT_INDEX}`,
	message:
		'Import another domain only through its index (e.g. "$lib/server/accounts"), not its internal files.'
});

/** SvelteKit itself: the request, cookies, `fail`, `json`. Only http/ and the routes use it. */
const noSvelteKit = {
	regex: String.raw`^(?:@sveltejs/kit(?:/|$)|\$app/)`,
	message:
		'Below http/ nothing imports SvelteKit: take plain values (RequestMeta, a token) and let http/ read the request and set cookies.'
};

const restrict = (...patterns) => ({
	'no-restricted-imports': ['error', { patterns }]
});

const layerRules = [
	// Infrastructure: core/, db/, platform/ sit at the bottom.
	{
		files: INFRASTRUCTURE.map((folder) => `src/lib/server/${folder}/**`),
		rules: restrict(
			{
				regex: `${FROM_SERVER}${any(['http', ...DOMAINS])}(?:/|$)`,
				message:
					'core/, db/ and platform/ are the bottom layer: they must not import http/ or a domain folder.'
			},
			noSvelteKit
		)
	},

	// Domains: one block per domain, so "another domain" excludes the domain itself.
	...DOMAINS.map((domain) => ({
		files: [`src/lib/server/${domain}/**`],
		rules: restrict(
			{
				regex: `${FROM_SERVER}http(?:/|$)`,
				message: 'Domains must not import http/ (request plumbing sits above the domains).'
			},
			domainInternals(
				FROM_SERVER,
				DOMAINS.filter((other) => other !== domain)
			),
			noSvelteKit
		)
	})),

	// http/: anything in lib/server, domains only through their index.
	{
		files: ['src/lib/server/http/**'],
		rules: restrict(domainInternals(FROM_SERVER, DOMAINS))
	},

	// Routes and the server hook: http/, core/, platform/, domain indexes; never db/.
	{
		files: ['src/routes/**', 'src/hooks.server.ts'],
		rules: restrict(
			{
				regex: `${FROM_OUTSIDE}db(?:/|$)`,
				message:
					'Routes must not import db/ (no SQL in routes): go through a domain index or http/.'
			},
			domainInternals(FROM_OUTSIDE, DOMAINS)
		)
	},

	// Client code: never $lib/server (SvelteKit refuses it at build time too).
	{
		files: [
			'src/lib/components/**',
			'src/routes/**/*.svelte',
			'src/routes/**/+page.ts',
			'src/routes/**/+layout.ts',
			'src/hooks.client.ts'
		],
		rules: restrict({
			regex: String.raw`^(?:\$lib|(?:\.\./)+lib|\.\.)/server(?:/|$)`,
			message: 'Client code must never import $lib/server.'
		})
	}
];

export default defineConfig(
	{
		ignores: [
			'build/',
			'.svelte-kit/',
			'bench/pristine/build/',
			'bench/pristine/.svelte-kit/',
			'src/lib/paraglide/',
			'node_modules/',
			'test-results/',
			'playwright-report/',
			'coverage/',
			'data/',
			// Generated by msw (npx msw init), not our code.
			'static/'
		]
	},
	js.configs.recommended,
	ts.configs.recommended,
	svelte.configs.recommended,
	prettier,
	svelte.configs.prettier,
	{
		languageOptions: {
			globals: { ...globals.browser, ...globals.node }
		},
		rules: {
			// TypeScript checks undefined names itself (typescript-eslint recommends turning this off).
			'no-undef': 'off',
			// The app is served from the root (no `paths.base`, see svelte.config.js), so resolve()
			// around every link would change nothing; links with query strings read better plain.
			'svelte/no-navigation-without-resolve': 'off',
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
			]
		}
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
		languageOptions: {
			parserOptions: {
				extraFileExtensions: ['.svelte'],
				parser: ts.parser,
				svelteConfig
			}
		}
	},
	layerRules
);
