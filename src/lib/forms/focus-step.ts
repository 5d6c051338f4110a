import type { Action } from 'svelte/action';

/**
 * Issue 26: when a step changes to this element's (the first step again, after "Wrong address?
 * Change it"), focus moves to it, not to <body>. Pair it with `autofocus` for JavaScript off. A
 * timer, so it lands after SvelteKit's own focus reset for an enhanced form's answer.
 */
export const focusWhen: Action<HTMLElement, boolean> = (node, when) => {
	const focus = (now: boolean) => {
		if (now) setTimeout(() => node.focus());
	};
	focus(when);
	return { update: focus };
};
