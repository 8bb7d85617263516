-- wrk script: POST the file named by $BODY_FILE with $CONTENT_TYPE.
wrk.method = "POST"
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "text/csv"
local extra = os.getenv("EXTRA_HEADER")
if extra then
  local name, value = extra:match("([^:]+):%s*(.*)")
  wrk.headers[name] = value
end
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
