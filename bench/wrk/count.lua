-- GET /usernames/<random valid username>/count/: the SQLite read path. The
-- usernames are random, so nearly every answer is {"count": 0}.
dofile(os.getenv("REGD_BENCH_LUA_DIR") .. "/report.lua")

local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", string.format("/usernames/u%07x%d/count/",
                                         math.random(0, 0xfffffff), n))
end
