import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface ReceivedMail {
	from: string;
	to: string[];
	/** The DATA section as sent (headers, blank line, body), dot-unstuffed. */
	raw: string;
	headers: Record<string, string>;
	body: string;
}

export interface SmtpServer {
	url: string;
	messages: ReceivedMail[];
	/** The next `count` MAIL commands get a temporary failure (451), as during an outage. */
	failNext(count: number): void;
	close(): Promise<void>;
}

/**
 * A minimal SMTP responder on 127.0.0.1 (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT): enough
 * for nodemailer to deliver to, and it records what it received. No TLS, no AUTH.
 */
export async function startSmtpServer(): Promise<SmtpServer> {
	const messages: ReceivedMail[] = [];
	const sockets = new Set<Socket>();
	let failures = 0;

	const server = createServer((socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => socket.destroy());
		socket.setEncoding('utf8');
		const reply = (line: string) => socket.write(`${line}\r\n`);

		let buffer = '';
		let inData = false;
		let data: string[] = [];
		let envelope: { from: string; to: string[] } = { from: '', to: [] };

		reply('220 127.0.0.1 ESMTP test');
		socket.on('data', (chunk: string) => {
			buffer += chunk;
			let end: number;
			while ((end = buffer.indexOf('\r\n')) !== -1) {
				const line = buffer.slice(0, end);
				buffer = buffer.slice(end + 2);
				if (inData) {
					if (line === '.') {
						inData = false;
						messages.push(parseMail(envelope, data.join('\r\n')));
						envelope = { from: '', to: [] };
						reply('250 2.0.0 queued');
					} else {
						data.push(line.startsWith('..') ? line.slice(1) : line);
					}
					continue;
				}
				const verb = line.slice(0, 4).toUpperCase();
				if (verb === 'EHLO') {
					socket.write('250-127.0.0.1\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
				} else if (verb === 'HELO' || verb === 'NOOP') {
					reply('250 OK');
				} else if (verb === 'MAIL') {
					if (failures > 0) {
						failures -= 1;
						reply('451 4.3.0 try again later');
					} else {
						envelope = { from: address(line), to: [] };
						reply('250 OK');
					}
				} else if (verb === 'RCPT') {
					envelope.to.push(address(line));
					reply('250 OK');
				} else if (verb === 'DATA') {
					inData = true;
					data = [];
					reply('354 end with <CRLF>.<CRLF>');
				} else if (verb === 'RSET') {
					envelope = { from: '', to: [] };
					reply('250 OK');
				} else if (verb === 'QUIT') {
					reply('221 bye');
					socket.end();
				} else {
					reply('502 5.5.1 not implemented');
				}
			}
		});
	});

	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `smtp://127.0.0.1:${port}`,
		messages,
		failNext(count) {
			failures += count;
		},
		close() {
			for (const socket of sockets) socket.destroy();
			return new Promise((resolve) => server.close(() => resolve()));
		}
	};
}

function address(line: string): string {
	return /<([^>]*)>/.exec(line)?.[1] ?? '';
}

function parseMail(envelope: { from: string; to: string[] }, raw: string): ReceivedMail {
	const split = raw.indexOf('\r\n\r\n');
	const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
	const headers: Record<string, string> = {};
	for (const line of head.split('\r\n')) {
		const colon = line.indexOf(':');
		if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
	}
	return { from: envelope.from, to: envelope.to, raw, headers, body: raw.slice(split + 4) };
}
