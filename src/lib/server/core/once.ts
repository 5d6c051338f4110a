/** A value made on first use and kept: for read-only tables and warm-up work, never for state. */
export function once<T>(make: () => T): () => T {
	let made: { value: T } | undefined;
	return () => (made ??= { value: make() }).value;
}
