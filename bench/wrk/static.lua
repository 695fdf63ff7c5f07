-- GET of the URL's own path on every request (static: /register.html;
-- limit: the hello-world's /). wrk builds the request once: no Lua per request.
dofile(os.getenv("REGD_BENCH_LUA_DIR") .. "/report.lua")
