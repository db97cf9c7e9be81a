"""nginx (Debian) serving a directory on a free port of 127.0.0.1, for the HTTP tests."""
import os
import socket
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(root, workdir):
    """Serve `root` (Range and suffix ranges); nginx's files go to `workdir`. Returns (url, stop)."""
    port = free_port()
    d = workdir
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    open(conf, "w").write("""daemon off; worker_processes 1; pid %(d)s/nginx.pid; error_log %(d)s/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path %(d)s; proxy_temp_path %(d)s; fastcgi_temp_path %(d)s;
       uwsgi_temp_path %(d)s; scgi_temp_path %(d)s;
       types { application/json json; } default_type application/octet-stream;
       server { listen 127.0.0.1:%(port)d; root %(root)s; } }
""" % dict(d=d, port=port, root=root))
    p = subprocess.Popen(["/usr/sbin/nginx", "-c", conf, "-p", d], stdout=subprocess.DEVNULL,
                         stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)

    def stop():
        p.terminate()
        p.wait(10)
    return url, stop
