-- wrk script for the identical, drift and release re-sync scenarios
-- (scenarios/changes.ts): every request's body is built from one template,
-- with placeholders filled in per request. Floor and modsync get the same
-- template and the same fills.
--   TEMPLATE=f    the body, with these placeholders (each inside a JSON string):
--                   @URL@ @TOKEN@  the site's url and token (from SITES_FILE)
--                   @DRIFT@        drift: the one module whose version changes
--                   @CORE@         release: every core module's version (and core_version)
--   SITES_FILE=f  one site a line: "<id> <url> <token>"
--   MODE=m        identical | drift | release (only sets what @DRIFT@/@CORE@ become)
--   THREADS=n     wrk's -t: thread k of n posts only to sites k, k+n, k+2n… of the
--                 list, so no two threads ever sync the same site, and a thread's
--                 sites see its passes in order
--   RUN=r         a number no earlier run against this database used: it is part of
--                 every new version, so no run repeats an earlier run's versions
--   TOKEN=t       optional API bearer token
-- Thread k's i-th request (i = 1, 2, …) goes to its ((i-1) mod share + 1)-th site,
-- in pass p = floor((i-1) / share) + 1. What changes, per request:
--   identical  nothing: each site's body is the same bytes every time
--   drift      @DRIFT@ = "1.<k>.<i>-r<r>": one module at a version no site had
--   release    @CORE@  = "11.<r>.<p>": every core module moves to the pass's
--              release, whose version rows all sites of the pass share
-- The warm-up (the first sync of every site, posted by the bench) fills the
-- placeholders with the payload's own versions: pass 0.

local threads_made = 0
function setup(thread)
  threads_made = threads_made + 1
  thread:set("tid", threads_made)
end

local function slurp(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local s = f:read("*a"); f:close(); return s
end

local mode, run, threads, hdrs
-- pieces: the template's literal text and placeholder names, alternating
-- (pieces[1] literal, pieces[2] name, pieces[3] literal, …); out: the same
-- slots, the names' slots refilled per request.
local pieces, out, names = {}, {}, {}
local share = {}
local i = 0

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
  for k, v in ipairs(pieces) do out[k] = v end

  local sites_file = assert(os.getenv("SITES_FILE"), "set SITES_FILE")
  local k = 0
  for line in io.lines(sites_file) do
    local id, url, token = line:match("^(%d+) (%S+) (%S+)$")
    if id then
      k = k + 1
      if (k - 1) % threads == tid - 1 then share[#share + 1] = { id = id, url = url, token = token } end
    end
  end
  assert(#share > 0, "no sites for thread " .. tid)

  hdrs = { ["Content-Type"] = "application/json" }
  local tok = os.getenv("TOKEN")
  if tok then hdrs["Authorization"] = "Bearer " .. tok end
end

request = function()
  i = i + 1
  local site = share[(i - 1) % #share + 1]
  local fill = { URL = site.url, TOKEN = site.token }
  if mode == "drift" then fill.DRIFT = "1." .. tid .. "." .. i .. "-r" .. run end
  if mode == "release" then fill.CORE = "11." .. run .. "." .. (math.floor((i - 1) / #share) + 1) end
  for slot, name in pairs(names) do out[slot] = assert(fill[name], "no value for @" .. name .. "@") end
  return wrk.format("POST", "/api/v1/sites/" .. site.id .. "/modules", hdrs, table.concat(out))
end
