/** The owner's security checkup (/account/security, docs/rules.md §7c): one item per concern. */
export type CheckupItemCode =
	'contact' | 'two_step' | 'recovery_codes' | 'sessions' | 'events' | 'password_age';

export interface CheckupItem {
	code: CheckupItemCode;
	done: boolean;
	/** Where the owner fixes (or reviews) it. */
	href: string;
	/**
	 * contact: the masked bound contacts; sessions: live sessions; events: events in the window;
	 * recovery_codes: codes left.
	 */
	count?: number;
	contacts?: string[];
	/** password_age: when the password was last set (ISO); events: the newest one's time. */
	at?: string;
	/** two_step: passkeys registered. */
	passkeys?: number;
}

export interface Checkup {
	items: CheckupItem[];
	/** Items not done: 0 is "All good". */
	todo: number;
}
