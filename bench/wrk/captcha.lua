-- GET /image_codes/<random uuid>/: draws a PNG captcha and stores its answer
-- (one durable LMDB write per request, batched by group commit).
dofile(os.getenv("REGD_BENCH_LUA_DIR") .. "/report.lua")

local function hex(digits)
  local s = ""
  while #s < digits do
    s = s .. string.format("%04x", math.random(0, 0xffff))
  end
  return s:sub(1, digits)
end

request = function()
  local uuid = hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-a" .. hex(3) .. "-" .. hex(12)
  return wrk.format("GET", "/image_codes/" .. uuid .. "/")
end
