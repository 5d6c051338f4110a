/**
 * docs/rules.md §9: every time rule (5 min, 60 s, 72 h, 7 d, 180 d) reads time from a Clock, so tests and
 * the APP_TEST_HOOKS clock endpoint can move it without waiting.
 */
export interface Clock {
	now(): Date;
}

export const systemClock: Clock = {
	now: () => new Date()
};

/** Real time plus an adjustable offset; only the test hooks ever move it. */
export class AdjustableClock implements Clock {
	#offsetMs = 0;
	constructor(private readonly base: Clock = systemClock) {}

	now(): Date {
		return new Date(this.base.now().getTime() + this.#offsetMs);
	}

	advance(ms: number): Date {
		this.#offsetMs += ms;
		return this.now();
	}

	set(instant: Date): Date {
		this.#offsetMs = instant.getTime() - this.base.now().getTime();
		return this.now();
	}
}

/** A clock that stands still until told to move: for unit tests at exact boundaries. */
export class FixedClock implements Clock {
	#ms: number;
	constructor(start: Date | string) {
		this.#ms = new Date(start).getTime();
	}
	now(): Date {
		return new Date(this.#ms);
	}
	advance(ms: number): Date {
		this.#ms += ms;
		return this.now();
	}
	set(instant: Date): Date {
		this.#ms = instant.getTime();
		return this.now();
	}
}
