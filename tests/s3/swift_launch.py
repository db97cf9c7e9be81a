"""Run one Swift server (account, container, object, proxy) with our own swift.conf.

usage: /usr/bin/python3 swift_launch.py SWIFT_CONF SERVICE SERVER_CONF

Swift reads /etc/swift/swift.conf unless swift.common.utils.SWIFT_CONF_FILE is changed before
its storage policies load; the tests never touch /etc (run_s3.py starts this).
"""
import sys

import swift.common.utils as utils

utils.SWIFT_CONF_FILE = sys.argv[1]
from swift.common import storage_policy  # noqa: E402  (after SWIFT_CONF_FILE is set)

storage_policy.reload_storage_policies()
from swift.common.wsgi import run_wsgi  # noqa: E402

svc, conf = sys.argv[2], sys.argv[3]
kwargs = {}
if svc == "object":
    from swift.obj import server
    kwargs["global_conf_callback"] = server.global_conf_callback
sys.exit(run_wsgi(conf, svc + "-server", **kwargs))
