-- The realistic mix: requests cycle through the paths listed in $MIX_PATHS (one per line), each wrk thread
-- from its own offset, so the server sees many distinct URLs rather than one.
local paths = {}
for line in io.lines(os.getenv("MIX_PATHS")) do
  paths[#paths + 1] = line
end

local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end

local position = nil
function request()
  position = (position or offset or 0) + 1
  return wrk.format("GET", paths[(position % #paths) + 1])
end
