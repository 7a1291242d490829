-- bench/api.lua: wrk's script for bench/api. It adds the Authorization
-- header from the file named by SCICAST_BENCH_AUTH (a line
-- "Authorization: Bearer sct_..."), so the token is never on a command line,
-- and prints the results as one JSON line (after "RESULT ") for the script.

local path = os.getenv("SCICAST_BENCH_AUTH")
if path then
	local f = assert(io.open(path, "r"))
	local line = f:read("*l")
	f:close()
	local name, value = line:match("^([^:]+):%s*(.-)%s*$")
	wrk.headers[name] = value
end

-- No response() callback: with one, wrk hands every body to Lua, and the
-- client's own cost would enter the latencies. wrk counts an answer with a
-- status of 400 or more in errors.status; the script checks the route
-- answers 200 before it starts wrk.

done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
		'"errors_status": %d, "errors_connect": %d, "errors_read": %d, ' ..
		'"errors_write": %d, "errors_timeout": %d, "mean_us": %.1f, ' ..
		'"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
		summary.requests, summary.duration, summary.bytes,
		e.status, e.connect, e.read, e.write, e.timeout, latency.mean,
		latency:percentile(50), latency:percentile(90),
		latency:percentile(99), latency.max))
end
