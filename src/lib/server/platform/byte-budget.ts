/**
 * How many bytes the request bodies being read may hold in this process at once, in all and per
 * client network. A body reserves its size before a byte is read; past either bound the answer is
 * "busy" and the body is never read. One per context (so per process), never module state.
 */
export interface ByteBudget {
	/** The release function, or null when `bytes` do not fit (nothing is reserved then). */
	reserve(network: string, bytes: number): (() => void) | null;
}

export function createByteBudget(limits: { total: number; perNetwork: number }): ByteBudget {
	let held = 0;
	const byNetwork = new Map<string, number>();
	return {
		reserve(network, bytes) {
			const mine = byNetwork.get(network) ?? 0;
			if (held + bytes > limits.total || mine + bytes > limits.perNetwork) return null;
			held += bytes;
			byNetwork.set(network, mine + bytes);
			let released = false;
			return () => {
				if (released) return;
				released = true;
				held -= bytes;
				const left = (byNetwork.get(network) ?? bytes) - bytes;
				if (left > 0) byNetwork.set(network, left);
				else byNetwork.delete(network);
			};
		}
	};
}
