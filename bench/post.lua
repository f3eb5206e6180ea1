-- wrk script: POST a module-sync payload to SITES different site ids in turn.
-- modsync's copy of the shared post.lua, extended for per-site bodies:
--   BODY_FILE=f            one body for every site, site ids 1..SITES (the floor,
--                          which ignores the body's site block)
--   BODY_DIR=d             d/ids.txt lists the site ids, one a line, and d/<id>.json
--                          is that site's body (modsync checks the body's own
--                          site.url and site.token against the site in the path)
--   SITES=n                how many sites to cycle through (default 1000; with
--                          BODY_DIR, at most the number of ids listed)
--   TOKEN=t                optional API bearer token
--   PATH_PREFIX=p          default /api/v1/sites/
local function slurp(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local s = f:read("*a"); f:close(); return s
end

local sites = tonumber(os.getenv("SITES") or "1000")
local prefix = os.getenv("PATH_PREFIX") or "/api/v1/sites/"
local tok = os.getenv("TOKEN")
local dir = os.getenv("BODY_DIR")

-- ids[k] is the k-th site id; bodies[k] its body (or nil: use the shared body).
local ids, bodies, shared = {}, {}, nil
if dir then
  for line in io.lines(dir .. "/ids.txt") do
    if #ids >= sites then break end
    local id = line:match("^%s*(%d+)%s*$")
    if id then
      ids[#ids + 1] = id
      bodies[#ids] = slurp(dir .. "/" .. id .. ".json")
    end
  end
  sites = #ids
else
  shared = slurp(assert(os.getenv("BODY_FILE"), "set BODY_DIR or BODY_FILE"))
  for k = 1, sites do ids[k] = tostring(k) end
end
assert(sites > 0, "no sites to post to")

local hdrs = { ["Content-Type"] = "application/json" }
if tok then hdrs["Authorization"] = "Bearer " .. tok end

-- Same order as the original: the first request goes to the second site.
local i = 0
request = function()
  i = i + 1
  local k = (i % sites) + 1
  return wrk.format("POST", prefix .. ids[k] .. "/modules", hdrs, bodies[k] or shared)
end
