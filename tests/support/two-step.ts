import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { totpCode, totpStep } from '../../src/lib/server/core/totp';
import type { Clock } from '../../src/lib/server/core/clock';

/** The code an authenticator app shows now for a secret the server answered (base32). */
export function appCode(secret: string, clock: Clock, stepOffset = 0): string {
	return totpCode(decodeBase32IgnorePadding(secret), totpStep(clock) + stepOffset);
}

// --- A software WebAuthn authenticator (ES256, "none" attestation), written from the spec -------

type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor>;

/** Minimal CBOR (RFC 8949) encoding of what an authenticator sends: ints, strings, bytes, maps. */
function cbor(value: Cbor): Buffer {
	const head = (major: number, n: number) => {
		if (n < 24) return Buffer.from([(major << 5) | n]);
		if (n < 256) return Buffer.from([(major << 5) | 24, n]);
		if (n < 65536) return Buffer.from([(major << 5) | 25, n >> 8, n & 255]);
		const b = Buffer.alloc(5);
		b[0] = (major << 5) | 26;
		b.writeUInt32BE(n, 1);
		return b;
	};
	if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
	if (typeof value === 'string') {
		const bytes = Buffer.from(value, 'utf8');
		return Buffer.concat([head(3, bytes.length), bytes]);
	}
	if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
	if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
	return Buffer.concat([
		head(5, value.size),
		...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])
	]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64url = (data: Buffer) => data.toString('base64url');

export interface SoftAuthenticator {
	credentialId: string;
	/**
	 * navigator.credentials.create() as @simplewebauthn/browser would send it. The credential is
	 * discoverable: it keeps the options' `user.id` and returns it as `userHandle` when asserting.
	 */
	register(
		options: { challenge: string; rp: { id?: string }; user?: { id: string } },
		origin: string
	): object;
	/** navigator.credentials.get(); `userHandle: null` leaves it out, as a non-discoverable key does. */
	assert(
		options: { challenge: string; rpId?: string },
		origin: string,
		opts?: { userVerified?: boolean; counter?: number; userHandle?: string | null }
	): object;
}

export function softAuthenticator(): SoftAuthenticator {
	const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
	const jwk = publicKey.export({ format: 'jwk' });
	const credentialId = randomBytes(16);
	let counter = 0;
	let userHandle: string | undefined;
	const coseKey = new Map<Cbor, Cbor>([
		[1, 2], // kty: EC2
		[3, -7], // alg: ES256
		[-1, 1], // crv: P-256
		[-2, Buffer.from(jwk.x!, 'base64url')],
		[-3, Buffer.from(jwk.y!, 'base64url')]
	]);
	const authData = (rpId: string, flags: number, count: number, attested?: Buffer) => {
		const c = Buffer.alloc(4);
		c.writeUInt32BE(count);
		return Buffer.concat([sha256(rpId), Buffer.from([flags]), c, ...(attested ? [attested] : [])]);
	};
	const clientData = (type: string, challenge: string, origin: string) =>
		Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
	return {
		credentialId: b64url(credentialId),
		register(options, origin) {
			const rpId = options.rp.id!;
			userHandle = options.user?.id;
			const idLength = Buffer.alloc(2);
			idLength.writeUInt16BE(credentialId.length);
			const attested = Buffer.concat([Buffer.alloc(16), idLength, credentialId, cbor(coseKey)]);
			// UP | UV | AT
			const data = authData(rpId, 0x01 | 0x04 | 0x40, counter, attested);
			const attestationObject = cbor(
				new Map<Cbor, Cbor>([
					['fmt', 'none'],
					['attStmt', new Map()],
					['authData', data]
				])
			);
			return {
				id: b64url(credentialId),
				rawId: b64url(credentialId),
				type: 'public-key',
				response: {
					clientDataJSON: b64url(clientData('webauthn.create', options.challenge, origin)),
					attestationObject: b64url(attestationObject),
					transports: ['internal']
				},
				clientExtensionResults: {},
				authenticatorAttachment: 'platform'
			};
		},
		assert(options, origin, opts = {}) {
			counter = opts.counter ?? counter + 1;
			const flags = 0x01 | (opts.userVerified === false ? 0 : 0x04);
			const data = authData(options.rpId!, flags, counter);
			const client = clientData('webauthn.get', options.challenge, origin);
			const signature = sign('sha256', Buffer.concat([data, sha256(client)]), privateKey);
			const handle = opts.userHandle === undefined ? userHandle : opts.userHandle;
			return {
				id: b64url(credentialId),
				rawId: b64url(credentialId),
				type: 'public-key',
				response: {
					clientDataJSON: b64url(client),
					authenticatorData: b64url(data),
					signature: b64url(signature),
					...(handle ? { userHandle: handle } : {})
				},
				clientExtensionResults: {},
				authenticatorAttachment: 'platform'
			};
		}
	};
}
