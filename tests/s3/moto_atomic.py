"""moto's S3 server (as `python -m moto.server -H HOST -p PORT`) with conditional writes made atomic.

usage: PEER_PYTHON moto_atomic.py HOST PORT

moto 5.2 checks a PUT's If-Match / If-None-Match and then stores the value with no lock, so two
request threads can both pass the check of the same ETag and both succeed: a lost update that
real S3 (where the check and the write are one step) never allows. The multi-writer tests are
about zarrc's compare-and-swap, not about that race, so every request that carries a
precondition (and every DELETE, which can race a conditional create) runs under one lock here;
unconditional requests and reads stay concurrent. Everything else is moto's own main().
"""
import os
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def atomic_preconditions(environ, start_response):
    if "HTTP_IF_MATCH" in environ or "HTTP_IF_NONE_MATCH" in environ or environ.get("REQUEST_METHOD") == "DELETE":
        with lock:
            return list(app(environ, start_response))  # the whole answer is made under the lock
    return app(environ, start_response)


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
run_simple(host, port, atomic_preconditions, threaded=True, request_handler=MotoRequestHandler)
