"""Build the zarrc Python package against the in-tree static libzarrc, install it into a fresh
--target directory (never into the shared venv) and run the pytest suite with it.
    python run.py SOURCE_DIR LIBZARRC_A WORK_DIR [pytest args...]"""
import os
import shutil
import subprocess
import sys

src, lib, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
pkg = os.path.join(work, "pkg")
shutil.copytree(os.path.join(src, "python"), pkg,
                ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "*.so"))
env = dict(os.environ, ZARRC_LIBZARRC=lib, ZARRC_INCLUDE_DIR=os.path.join(src, "include"))
site = os.path.join(work, "site")
subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                "--no-index", "--target", site, pkg], check=True, env=env)
env = dict(os.environ, PYTHONPATH=site)
sys.exit(subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         "--durations=5", "--basetemp=" + os.path.join(work, "tmp"),
                         os.path.join(src, "tests", "python"), *sys.argv[4:]],
                        cwd=work, env=env).returncode)
