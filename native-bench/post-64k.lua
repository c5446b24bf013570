-- wrk -s native-bench/post-64k.lua: every request is a POST with a 64 KiB body (Content-Length framed).
wrk.method = "POST"
wrk.body = string.rep("c", 65536)
wrk.headers["Content-Type"] = "application/octet-stream"
