type AnswerParts = typeof import('./check-answer');

/**
 * The parts of the check form that only an answer needs (check-answer.ts), which a first visit to
 * the check page does not. The server renders them at once (a form action's answer with
 * JavaScript off, R14); the browser loads them when an answer first needs them, so `/`
 * downloads only the form (docs/BENCHMARKS.md, initial JS). `import.meta.env.SSR` is a
 * build-time constant: the client build drops the first import.
 */
export const serverAnswerParts: AnswerParts | undefined = import.meta.env.SSR
	? await import('./check-answer')
	: undefined;

export const loadAnswerParts = (): Promise<AnswerParts> => import('./check-answer');
