// `npm start`: the built server (`node build`) with a local ORIGIN when none is set. adapter-node
// assumes https without ORIGIN, and would then refuse every form post over plain http with 403.
const port = process.env.PORT ?? '3000';
process.env.ORIGIN ??= `http://localhost:${port}`;
// R19 appeals carry up to 3 documents of 5 MB; adapter-node's default limit is 512 KB.
process.env.BODY_SIZE_LIMIT ??= '20M';
console.log(
	`Account Security Check on ${process.env.ORIGIN} (database: ${process.env.DATABASE_URL ?? 'file:./data/app.db'})`
);
await import('../build/index.js');
