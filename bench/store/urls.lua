-- wrk script: requests the presigned URLs of a file round-robin.
-- env: CV_URLS (file of "PATH?QUERY" lines), CV_METHOD (GET or PUT),
--      CV_BODY_BYTES (PUT body size). Thread t of n takes lines t, t+n, ...
-- so every PUT goes to a distinct key until a thread runs out (then wraps;
-- done() reports wraps). done() prints one machine-readable RESULT line.
local threads = {}
local counter = 1

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    local nthreads = tonumber(os.getenv("CV_THREADS") or "1")
    method = os.getenv("CV_METHOD") or "GET"
    local n = tonumber(os.getenv("CV_BODY_BYTES") or "0")
    body = nil
    if method == "PUT" then
        body = string.rep("x", n)
    end
    paths = {}
    local i = 0
    for line in io.lines(os.getenv("CV_URLS")) do
        if i % nthreads == tid - 1 then
            paths[#paths + 1] = line
        end
        i = i + 1
    end
    idx = 0
    wraps = 0
    -- The request around the path is built once: wrk.format() on every
    -- request costs wrk about 10 us of CPU, on the cores the server uses.
    pre = method .. " "
    post = " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] .. "\r\n"
    if body then
        post = post .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
    else
        post = post .. "\r\n"
    end
end

function request()
    idx = idx + 1
    if idx > #paths then
        idx = 1
        wraps = wraps + 1
    end
    return pre .. paths[idx] .. post
end

function done(summary, latency, requests)
    local w = 0
    for _, t in ipairs(threads) do
        w = w + (t:get("wraps") or 0)
    end
    local e = summary.errors
    io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d wraps=%d p50_us=%d p99_us=%d\n",
        summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout, w,
        latency:percentile(50), latency:percentile(99)))
end
