import { once } from '../core/once';

/**
 * @simplewebauthn/server, loaded by the first passkey request rather than at start: it adds
 * ~13 MB to every process, most of which never registers or verifies a passkey (peak RSS,
 * docs/BENCHMARKS.md).
 */
export const webauthn = once(() => import('@simplewebauthn/server'));
