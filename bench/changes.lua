-- wrk script for the identical, drift and release re-sync scenarios
-- (scenarios/changes.ts): every request's body is built from one template,
-- with placeholders filled in per request. Floor and modsync get the same
-- template and the same fills.
--   TEMPLATE=f    the body, with these placeholders (each inside a JSON string):
--                   @URL@ @TOKEN@  the site's url and token (from SITES_FILE)
--                   @DRIFT@        drift: the one module whose version changes
--                   @CORE@         release: every core module's version (and core_version)
--   SITES_FILE=f  one site a line: "<id> <url> <token> <tail>", tail a number 0-255
--                 (see TAIL below)
--   MODE=m        identical | drift | release (only sets what @DRIFT@/@CORE@ become)
--   THREADS=n     wrk's -t: thread k of n posts only to sites k, k+n, k+2n… of the
--                 list, so no two threads ever sync the same site, and a thread's
--                 sites see its passes in order
--   RUN=r         a number no earlier run against this database used: it is part of
--                 every new version, so no run repeats an earlier run's versions
--   TOKEN=t       optional API bearer token
-- Thread k's i-th request (i = 1, 2, …) goes to its ((i-1) mod sites + 1)-th site
-- (sites: how many it has), in pass p = floor((i-1) / sites) + 1. What changes,
-- per request:
--   identical  nothing: each site's body is the same bytes every time
--   drift      @DRIFT@ = "1.<k>.<i>-r<r>": one module at a version no site had
--   release    @CORE@  = "11.<r>.<p>": every core module moves to the pass's
--              release, whose version rows all sites of the pass share
-- The warm-up (the first sync of every site, posted by the bench) fills the
-- placeholders with the payload's own versions: pass 0.
--
-- Every body ends with four whitespace characters after its JSON, the same
-- four for a site every time (its tail number's base-4 digits, lowest first,
-- as TAIL: space, \n, \t, \r); scenarios/changes.ts adds the same to the
-- warm-up's bodies. Why: LuaJIT interns every string, and hashes a long one
-- from a few bytes only (its first, last, middle and quarter-way four). Bodies
-- that differ elsewhere (a site's url and token near the start, a version in
-- the middle) share a hash; past 32 strings in one chain LuaJIT hashes every
-- new string there in full. With 10,000 sites that happened for most requests:
-- against a server that answers at once, wrk's CPU a request was 55 µs at
-- 10,000 sites and 29 at 1,000, CPU taken from the servers it measures, so the
-- grown database's figures measured wrk. A thread's sites now take the 256
-- tails in turn (scenarios/changes.ts, tailCode), so the last four bytes
-- differ between most of them. For the same reason the whole request is made
-- by one concatenation (wrk.format would make the body, then the request
-- around it: two such strings). JSON allows whitespace after the value; both servers parse it.

local threads_made = 0
function setup(thread)
  threads_made = threads_made + 1
  thread:set("tid", threads_made)
end

local function slurp(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local s = f:read("*a"); f:close(); return s
end

local mode, run, threads
-- pieces: the template's literal text and placeholder names, alternating
-- (pieces[1] literal, pieces[2] name, pieces[3] literal, …); names: the
-- names' slots.
local pieces, names = {}, {}
-- req: the request's parts for table.concat: its head, then the body's pieces, then the site's tail.
local req, head = {}, nil
local fill = {}
-- This thread's sites, kept as few objects: ids and offsets in arrays of
-- numbers, every url and token in one string (urls_tokens), each site's tail
-- as one of the 256 strings of TAIL. One table or string per site made
-- LuaJIT's collector, which visits every live object each cycle, the largest
-- part of wrk's CPU at 10,000 sites.
local ids, url_from, token_from, token_to, tail_codes = {}, {}, {}, {}, {}
local urls_tokens = ""
local sites = 0
local i = 0

local WHITESPACE = { " ", "\n", "\t", "\r" }
local TAIL = {}
for code = 0, 255 do
  local t = {}
  for d = 0, 3 do t[d + 1] = WHITESPACE[math.floor(code / 4 ^ d) % 4 + 1] end
  TAIL[code] = table.concat(t)
end

function init(args)
  mode = assert(os.getenv("MODE"), "set MODE")
  assert(mode == "identical" or mode == "drift" or mode == "release", "MODE must be identical, drift or release")
  run = assert(os.getenv("RUN"), "set RUN")
  threads = tonumber(os.getenv("THREADS") or "1")
  assert(tid ~= nil and tid <= threads, "THREADS must be wrk's -t")

  local template = slurp(assert(os.getenv("TEMPLATE"), "set TEMPLATE"))
  local at = 1
  while true do
    local s, e, name = template:find("@(%u+)@", at)
    if not s then break end
    pieces[#pieces + 1] = template:sub(at, s - 1)
    pieces[#pieces + 1] = name
    names[#pieces] = name
    at = e + 1
  end
  pieces[#pieces + 1] = template:sub(at)

  local sites_file = assert(os.getenv("SITES_FILE"), "set SITES_FILE")
  local k, parts, length = 0, {}, 0
  for line in io.lines(sites_file) do
    local id, url, token, tail = line:match("^(%d+) (%S+) (%S+) (%d+)$")
    if id then
      k = k + 1
      if (k - 1) % threads == tid - 1 then
        sites = sites + 1
        ids[sites] = tonumber(id)
        url_from[sites] = length + 1
        token_from[sites] = length + #url + 1
        token_to[sites] = length + #url + #token
        tail_codes[sites] = tonumber(tail)
        assert(TAIL[tail_codes[sites]], "tail must be 0-255: " .. line)
        parts[#parts + 1] = url
        parts[#parts + 1] = token
        length = length + #url + #token
      end
    end
  end
  assert(sites > 0, "no sites for thread " .. tid)
  urls_tokens = table.concat(parts)

  -- wrk sets the Host header before it calls init.
  head = "Host: " .. wrk.headers["Host"] .. "\r\nContent-Type: application/json\r\n"
  local tok = os.getenv("TOKEN")
  if tok then head = head .. "Authorization: Bearer " .. tok .. "\r\n" end
end

request = function()
  i = i + 1
  local site = (i - 1) % sites + 1
  fill.URL = urls_tokens:sub(url_from[site], token_from[site] - 1)
  fill.TOKEN = urls_tokens:sub(token_from[site], token_to[site])
  if mode == "drift" then fill.DRIFT = "1." .. tid .. "." .. i .. "-r" .. run end
  if mode == "release" then fill.CORE = "11." .. run .. "." .. (math.floor((i - 1) / sites) + 1) end
  local tail = TAIL[tail_codes[site]]
  local length = #tail
  for slot = 1, #pieces do
    local piece = pieces[slot]
    if names[slot] then piece = assert(fill[piece], "no value for @" .. piece .. "@") end
    req[slot + 1] = piece
    length = length + #piece
  end
  req[#pieces + 2] = tail
  req[1] = "POST /api/v1/sites/" .. ids[site] .. "/modules HTTP/1.1\r\n" .. head .. "Content-Length: " .. length .. "\r\n\r\n"
  return table.concat(req)
end
