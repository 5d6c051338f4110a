-- wrk script for `npm run bench`: wrk -s load.lua URL -- METHOD CONTENT_TYPE [BODIES_FILE] [ORIGIN]
-- Each request takes the next line of BODIES_FILE (varied identifiers), each thread from its own
-- random start; the summary is one JSON line the benchmark reads.
local bodies = {}
local next_body = 0

function init(args)
	wrk.method = args[1] or "GET"
	if args[2] and args[2] ~= "" then wrk.headers["Content-Type"] = args[2] end
	if args[4] and args[4] ~= "" then wrk.headers["Origin"] = args[4] end
	wrk.headers["Accept"] = "text/html,application/json"
	if args[3] and args[3] ~= "" then
		for line in io.lines(args[3]) do bodies[#bodies + 1] = line end
		math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
		next_body = math.random(#bodies)
	end
end

function request()
	if #bodies == 0 then return wrk.format() end
	next_body = next_body % #bodies + 1
	return wrk.format(nil, nil, nil, bodies[next_body])
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
		'"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\n',
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
		latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
