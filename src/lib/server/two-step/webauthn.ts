import { once } from '../core/once';

/**
 * @simplewebauthn/server, loaded by the first passkey request rather than at start: it adds
 * ~13 MB to every process, most of which never registers or verifies a passkey (peak RSS,
 * docs/BENCHMARKS.md).
 */
export const webauthn = once(() => import('@simplewebauthn/server'));

type WebAuthn = Awaited<ReturnType<typeof webauthn>>;

/**
 * One WebAuthn verification against the challenge this server issued, its origin and relying
 * party; a response the library throws on (malformed, another origin, …) verifies nothing: null.
 */
export async function verifyWebAuthn<Verified>(
	expected: { challenge: string; origin: string; rpID: string },
	verify: (
		library: WebAuthn,
		expected: { expectedChallenge: string; expectedOrigin: string; expectedRPID: string }
	) => Promise<Verified>
): Promise<Verified | null> {
	try {
		return await verify(await webauthn(), {
			expectedChallenge: expected.challenge,
			expectedOrigin: expected.origin,
			expectedRPID: expected.rpID
		});
	} catch {
		return null;
	}
}
