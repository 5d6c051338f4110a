// `npm start`: the built server (`node build`) with a local ORIGIN when none is set. adapter-node
// assumes https without ORIGIN, and would then refuse every form post over plain http with 403.
const port = process.env.PORT ?? '3000';
process.env.ORIGIN ??= `http://localhost:${port}`;
// R19 appeals carry up to 3 documents of 5 MB; adapter-node's default limit is 512 KB.
process.env.BODY_SIZE_LIMIT ??= '20M';
// One address to open: ORIGIN. adapter-node's own "Listening on http://0.0.0.0:3000" names the
// socket, and a browser sent there (or to 127.0.0.1) has every form refused as cross-site (403).
const log = console.log;
console.log = (...args) => {
	if (typeof args[0] === 'string' && args[0].startsWith('Listening on ')) {
		console.log = log;
		log(
			`Account Security Check: open ${process.env.ORIGIN} (database: ${process.env.DATABASE_URL ?? 'file:./data/app.db'})`
		);
		return;
	}
	log(...args);
};
await import('../build/index.js');
