-- wrk script for 'spanheap serve': POSTs bodies of mixed sizes (1 B to 1 MiB, most of them small),
-- counts answers that are not 200, lack the checksum header, or are not one of the bodies sent
-- (each size has its own fill byte, so a body of the wrong length or content is caught), and prints
-- one machine-readable RESULT line with throughput and latency percentiles at the end. Checksums
-- themselves are checked by serve-check.py, before and after the load.
-- The sizes and their shares (per thousand requests).
local sizes  = { 1,   64,  512, 4096, 16384, 65536, 262144, 1048576 }
local shares = { 100, 200, 200, 200,  150,   100,   40,     10 }

local cumulative = {}
local requests = {}
local fill_of_size = {}
-- Read by done() through thread:get, so global in each thread's state.
bad = 0

function setup(thread)
    thread:set("id", #threads_list + 1)
    table.insert(threads_list, thread)
end
threads_list = {}

function init(args)
    math.randomseed(1000 + id)
    local total = 0
    for i, size in ipairs(sizes) do
        local fill = string.char(65 + i)
        fill_of_size[size] = fill
        requests[i] = wrk.format("POST", "/echo", { ["Content-Type"] = "application/octet-stream" }, string.rep(fill, size))
        total = total + shares[i]
        cumulative[i] = total
    end
end

function request()
    local pick = math.random(1, cumulative[#cumulative])
    local i = 1
    while pick > cumulative[i] do
        i = i + 1
    end
    return requests[i]
end

function response(status, headers, body)
    local fill = fill_of_size[#body]
    if status ~= 200 or headers["X-Checksum"] == nil or fill == nil
            or body:sub(1, 1) ~= fill or body:sub(-1) ~= fill then
        bad = bad + 1
    end
end

function done(summary, latency, requests_stats)
    local bad_total = 0
    for _, thread in ipairs(threads_list) do
        bad_total = bad_total + thread:get("bad")
    end
    io.write(string.format(
        "RESULT requests=%d seconds=%.2f rps=%.1f bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d bad=%d socket_errors=%d\n",
        summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), summary.bytes,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, bad_total,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
