"""Start and stop `zarrc serve` for the serve tests: binds 127.0.0.1 on a free port (port 0,
read back from the server's first stderr line), waits until /healthz answers, and always
stops the server (SIGTERM, then SIGKILL) when the block ends, on failure too."""
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        raise AssertionError(what)


@contextlib.contextmanager
def server(zarrc, root, *args, keys=None, log=None):
    """Yields (base_url, proc). keys: dict KEY -> 'rw'|'ro' written to a key file."""
    cmd = [zarrc, "serve", root, "--listen", "127.0.0.1:0"]
    if keys is not None:
        kf = os.path.join(os.path.dirname(root.rstrip("/")) or ".", "keys.txt")
        with open(kf, "w") as f:
            for k, v in keys.items():
                f.write(f"{k} {v}\n")
        cmd += ["--api-keys", kf]
    cmd += list(args)
    logpath = log or os.path.join(os.path.dirname(root.rstrip("/")) or ".", "serve.log")
    logf = open(logpath, "w+")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=logf)
    try:
        url = None
        deadline = time.time() + 20
        while time.time() < deadline and url is None:
            if proc.poll() is not None:
                logf.seek(0)
                raise RuntimeError(f"zarrc serve exited with {proc.returncode}: {logf.read()}")
            logf.seek(0)
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", logf.read())
            if m:
                url = m.group(1)
            else:
                time.sleep(0.05)
        if url is None:
            raise RuntimeError("zarrc serve did not start")
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=5).read()
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        yield url, proc
    except BaseException:
        _terminate(proc)
        logf.close()
        raise
    _terminate(proc)
    logf.seek(0)
    log = logf.read()
    logf.close()
    # A graceful stop exits 0; under ASan a leak or error report makes it non-zero.
    check(proc.returncode == 0 and "Sanitizer" not in log,
          f"zarrc serve exited {proc.returncode}: {log[-3000:]}")


def _terminate(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop(proc):
    """Graceful stop; returns the exit status."""
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)
