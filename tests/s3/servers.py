"""S3 servers on 127.0.0.1 for the S3 tests (tests/s3/run_s3.py) and the S3 benchmark
(bench/bench_s3.py): moto's server mode from the peer venv, and OpenStack Swift with s3api
(Debian packages; configs in tests/s3/swift/); for the benchmark only, s3s-fs (a Rust S3 server
on a directory, built by bench/bench_s3.sh). Each start_* appends its processes to `procs`
and returns (endpoint, access key, secret key); stop(procs) ends them."""
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from fault_proxy import free_port

HERE = os.path.dirname(os.path.abspath(__file__))


def wait_http(url, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return True
        except urllib.error.HTTPError:
            return True
        except Exception:
            time.sleep(0.2)
    return False


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()


def start_moto(tmp, procs, small_parts=True, atomic=True):
    port = free_port()
    log = open(os.path.join(tmp, "moto.log"), "w")
    # small_parts: parts of 1 KiB allowed (AWS: 5 MiB) so that the multipart tests stay small.
    # (moto then also spools every value to a temporary file: its in-memory buffer is that
    # minimum less 1 KiB.)
    env = dict(os.environ, S3_UPLOAD_PART_MIN_SIZE="1024") if small_parts else os.environ
    # atomic (the tests): moto_atomic.py, moto's server with its conditional PUTs made atomic (see
    # there); the benchmarks run moto's own server unchanged, the same server for every client.
    cmd = [os.path.join(HERE, "moto_atomic.py"), "127.0.0.1"] if atomic else ["-m", "moto.server", "-H", "127.0.0.1", "-p"]
    procs.append(subprocess.Popen([sys.executable] + cmd + [str(port)],
                                  stdout=log, stderr=subprocess.STDOUT, cwd=tmp, env=env))
    url = "http://127.0.0.1:%d" % port
    if not wait_http(url + "/moto-api/"):
        raise SystemExit("FAIL: moto did not start (see %s/moto.log)" % tmp)
    return url, "test", "test"


def start_swift(tmp, procs):
    d = os.path.join(tmp, "swift")
    shutil.rmtree(d, ignore_errors=True)
    etc, node, log = os.path.join(d, "etc"), os.path.join(d, "node"), os.path.join(d, "log")
    for x in (etc, os.path.join(node, "d1"), log):
        os.makedirs(x)
    ports = {"proxy": free_port(), "object": free_port(), "container": free_port(), "account": free_port()}
    for name in os.listdir(os.path.join(HERE, "swift")):
        if not name.endswith(".conf"):
            continue
        text = open(os.path.join(HERE, "swift", name)).read()
        text = text.replace("@ETC@", etc).replace("@NODE@", node)
        text = text.replace("@USER@", pwd.getpwuid(os.getuid()).pw_name)
        for k, v in ports.items():
            text = text.replace("@%s_PORT@" % k.upper(), str(v))
        open(os.path.join(etc, name), "w").write(text)
    for ring in ("object", "container", "account"):
        b = os.path.join(etc, ring + ".builder")
        for args in (["create", "6", "1", "1"], ["add", "r1z1-127.0.0.1:%d/d1" % ports[ring], "1"], ["rebalance"]):
            r = subprocess.run(["swift-ring-builder", b] + args, capture_output=True, text=True)
            if r.returncode not in (0, 1):  # rebalance answers 1 for warnings
                raise SystemExit("FAIL: swift-ring-builder %s: %s" % (args, r.stdout + r.stderr))
    for svc in ("account", "container", "object", "proxy"):
        lf = open(os.path.join(log, svc + ".log"), "w")
        procs.append(subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "swift_launch.py"),
                                       os.path.join(etc, "swift.conf"), svc,
                                       os.path.join(etc, svc + "-server.conf")],
                                      stdout=lf, stderr=subprocess.STDOUT, cwd=d))
    url = "http://127.0.0.1:%d" % ports["proxy"]
    if not wait_http(url + "/healthcheck", 90):
        raise SystemExit("FAIL: swift did not start (see %s)" % log)
    return url, "test:tester", "testing"


def start_s3s(tmp, procs, binary):
    """s3s-fs (bench/bench_s3.sh builds it with cargo) serving tmp/s3s-root; benchmarks only."""
    if not binary or not os.access(binary, os.X_OK):
        raise FileNotFoundError("s3s-fs binary not found at %r (bench/bench_s3.sh builds it with cargo; "
                                "ZARRC_BENCH_S3S names another)" % binary)
    root = os.path.join(tmp, "s3s-root")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    port = free_port()
    log = open(os.path.join(tmp, "s3s.log"), "w")
    procs.append(subprocess.Popen([binary, "--host", "127.0.0.1", "--port", str(port), "--access-key", "test",
                                   "--secret-key", "testsecret", root], stdout=log, stderr=subprocess.STDOUT, cwd=tmp))
    url = "http://127.0.0.1:%d" % port
    if not wait_http(url + "/", 30):
        raise SystemExit("FAIL: s3s-fs did not start (see %s/s3s.log)" % tmp)
    return url, "test", "testsecret"
