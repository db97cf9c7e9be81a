"""A fault-injecting HTTP proxy of our own for the S3 tests (tests/s3/run_s3.py) and the S3
benchmark (bench/bench_s3.py): it forwards requests to an upstream server on 127.0.0.1 and
answers chosen ones with a fault instead, or delays every request."""
import socket
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class FaultProxy:
    """A proxy of our own in front of the S3 server that answers some requests with a fault
    instead: 500, 503 SlowDown, 429, a connection reset, a truncated body, a stall, or a 200
    whose body is an S3 error document ("error200", what S3 may answer to
    CompleteMultipartUpload). `delay` adds that many seconds to every request. `log` records
    (method, path, If-None-Match, If-Match) of every request; `connections` counts the client
    connections, `max_inflight` the most requests handled at once."""

    def __init__(self, upstream):
        import http.client
        import http.server
        import threading
        self.fault, self.every, self.only, self.injected, self.count = None, 2, "", 0, 0
        self.method, self.limit, self.delay, self.log = None, None, 0.0, []
        self.connections = 0  # client connections accepted (keep-alive reuse shows here)
        self.inflight = self.max_inflight = 0  # requests being handled now / at most
        lock = threading.Lock()
        host, port = upstream.split("//", 1)[1].split(":")
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                with lock:
                    proxy.connections += 1
                super().setup()
                # Headers and body go out in separate writes: with Nagle's algorithm on, a small
                # body waits for the client's delayed ACK of the headers (40 ms on Linux), which
                # would add 40 ms to every small answer of every client, not the latency asked.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def reply(self, code, body=b"", extra=()):
                self.send_response(code)
                for k, v in extra:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                # In flight: from the request's arrival (body read) to the upstream's answer,
                # not while the answer goes back (the client may already send its next
                # request on another connection then).
                with lock:
                    proxy.inflight += 1
                    proxy.max_inflight = max(proxy.max_inflight, proxy.inflight)
                try:
                    return self.handle_one_counted(body)
                finally:
                    with lock:
                        if self.counted:
                            proxy.inflight -= 1

            def uncount(self):
                with lock:
                    if self.counted:
                        proxy.inflight -= 1
                        self.counted = False

            def handle_one_counted(self, body):
                self.counted = True
                if proxy.delay:
                    time.sleep(proxy.delay)
                with lock:
                    proxy.log.append((self.command, self.path, self.headers.get("If-None-Match"),
                                      self.headers.get("If-Match")))
                    match = proxy.fault and proxy.only in self.path and proxy.method in (None, self.command)
                    if match:
                        proxy.count += 1
                    f = proxy.fault if match and proxy.count % proxy.every == 0 and \
                        (proxy.limit is None or proxy.injected < proxy.limit) else None
                    if f:
                        proxy.injected += 1
                if f == "error200":
                    return self.reply(200, b'<?xml version="1.0" encoding="UTF-8"?>\n\n<Error><Code>InternalError'
                                      b'</Code><Message>We encountered an internal error. Please try again.</Message>'
                                      b'</Error>', (("Content-Type", "application/xml"),))
                if f in ("500", "429"):
                    return self.reply(int(f), b"<Error><Code>InternalError</Code></Error>")
                if f == "slowdown":
                    return self.reply(503, b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>")
                if f == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    return
                if f == "stall":
                    time.sleep(3)
                    self.close_connection = True
                    return
                c = http.client.HTTPConnection(host, int(port), timeout=30)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "expect")}
                c.request(self.command, self.path, body=body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
                c.close()
                self.uncount()
                if f == "truncate" and len(data) > 1:
                    self.send_response(r.status)
                    for k, v in r.getheaders():
                        if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                    return
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = handle_one

        class Server(http.server.ThreadingHTTPServer):
            # socketserver's listen backlog is 5: a client opening 16 connections at once
            # would see the SYNs beyond the backlog dropped and retransmitted after 1 s.
            request_queue_size = 1024

        self.port = free_port()
        self.server = Server(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.port

    def set(self, fault, every=2, only="", method=None, limit=None):
        """Inject `fault` into every `every`-th request whose path contains `only` (and whose
        method is `method`, when given), at most `limit` times."""
        self.fault, self.every, self.only, self.injected, self.count = fault, every, only, 0, 0
        self.method, self.limit, self.log = method, limit, []
