#!/usr/bin/env bash
# `bash scripts/bench/before-after.sh <git-rev> [rounds]`: the app as built at <git-rev> and the
# app as built here, side by side in one run, on two copies of the benchmark's 1 M-account SQLite
# database (made by `npm run bench`), each load alternating between the two. Prints req/s, p99 and
# the server's CPU time per request (utime + stime of the process, which noise on a shared machine
# moves far less than req/s). Needs wrk. Run `npx vite build` here first.
set -euo pipefail
cd "$(dirname "$0")/../.."
rev=${1:?usage: before-after.sh <git-rev> [rounds]}
rounds=${2:-2}
data=${BENCH_DATA:-/tmp/asc-bench}
work=$(mktemp -d /tmp/asc-before-after.XXXXXX)
here=$(pwd)
[ -f "$data/accounts-1000000.db.done" ] || { echo "run npm run bench first (no $data/accounts-1000000.db)"; exit 1; }

git worktree add -q --detach "$work/app" "$rev"
cleanup() {
	for port in 6150 6151; do
		pid=$(ss -ltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	git worktree remove --force "$work/app" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cp -al node_modules "$work/app/node_modules"
(cd "$work/app" && npm run -s prepare > /dev/null 2>&1 && npx vite build > "$work/build.log" 2>&1)

# The same rows for both; the older build refuses a database with migrations it does not know.
cp "$data/accounts-1000000.db" "$work/before.db"
cp "$data/accounts-1000000.db" "$work/after.db"
known=$(ls "$work/app/src/lib/server/db/migrations" | sed 's/\.ts$//' | paste -sd, -)
node -e "
const Database = require('better-sqlite3');
const db = new Database('$work/before.db');
const known = new Set('$known'.split(','));
for (const { name } of db.prepare('select name from kysely_migration').all())
	if (!known.has(name)) db.prepare('delete from kysely_migration where name = ?').run(name);
db.close();"
node -e "
const Database = require('better-sqlite3');
const db = new Database('$data/accounts-1000000.db', { readonly: true });
const rows = db.prepare('select email, phone from accounts where rowid in (select rowid from accounts order by random() limit 20000)').all();
console.log(rows.map((r, i) => JSON.stringify({ identifier: i % 5 === 4 ? 'nobody.' + i + '@example.com' : (r.email ?? r.phone) })).join('\n'));
" > "$work/bodies.txt"

keys=$(cat "$data/keys.txt")
start() {
	(cd "$1" && PORT=$2 HOST=127.0.0.1 ORIGIN=http://127.0.0.1:$2 NODE_ENV=production \
		APP_SECRET_KEYS="$keys" DATABASE_URL="file:$3" BENCH_ROUTES=1 \
		CHECK_RATE_LIMIT_PER_IP=1000000000 CHECK_RATE_LIMIT_PER_IDENTIFIER=1000000000 \
		exec node build > "$work/server-$2.log" 2>&1) &
}
start "$work/app" 6150 "$work/before.db"
start "$here" 6151 "$work/after.db"
for _ in $(seq 1 100); do
	curl -sf http://127.0.0.1:6150/healthz > /dev/null && curl -sf http://127.0.0.1:6151/healthz > /dev/null && break
	sleep 0.2
done
pid() { ss -ltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() {
	local name=$1 port=$2 path=$3
	shift 3
	local p
	p=$(pid "$port")
	wrk -t2 -c32 -d2s -s bench/wrk/load.lua "http://127.0.0.1:$port$path" -- "$@" > /dev/null
	local before after out
	before=$(cpu "$p")
	out=$(wrk -t2 -c32 -d8s --timeout 10s -s bench/wrk/load.lua "http://127.0.0.1:$port$path" -- "$@" | grep BENCH)
	after=$(cpu "$p")
	node -e "
const r = JSON.parse(process.argv[1].slice(6));
const ticks = Number(process.argv[4]) - Number(process.argv[3]);
console.log('| ' + process.argv[2] + ' | ' + Math.round(r.requests / (r.duration_us / 1e6)) + ' | ' +
	(r.p99_us / 1000).toFixed(0) + ' ms | ' + Math.round((ticks * 1e4) / r.requests) + ' µs | ' +
	(r.status + r.timeout + r.connect + r.read + r.write) + ' |');" "$out" "$name" "$before" "$after"
}
echo "before: $(git rev-parse --short "$rev"), after: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' + changes'); $(uptime)"
echo '| load | req/s | p99 | CPU per request | failed |'
echo '| --- | ---: | ---: | ---: | ---: |'
for round in $(seq 1 "$rounds"); do
	for side in before:6150 after:6151; do
		measure "check API, ${side%%:*}, round $round" "${side#*:}" /api/v1/check POST application/json "$work/bodies.txt"
	done
	for side in before:6150 after:6151; do
		measure "no-op route, ${side%%:*}, round $round" "${side#*:}" /api/bench/noop POST application/json "$work/bodies.txt"
	done
	for side in before:6150 after:6151; do
		measure "GET /, ${side%%:*}, round $round" "${side#*:}" / GET
	done
done
