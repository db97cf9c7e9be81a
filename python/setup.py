"""Build the zarrc Python package: a cffi (API mode) extension linked against libzarrc.

Where libzarrc comes from (environment variable ZARRC_LIBZARRC):
  unset / "auto"   the repository this python/ directory sits in, when there is one (its
                   CMakeLists.txt and include/zarrc.h): cmake builds the static library
                   (PIC) into python/build/libzarrc-cmake (override: ZARRC_CMAKE_BUILD_DIR)
                   and links it into the extension. Otherwise: "pkg-config".
  "source"         the same, and fail if no repository is found (ZARRC_SOURCE_DIR names it
                   when the package is built from a copy of python/).
  "pkg-config"     an installed libzarrc: `pkg-config --cflags --libs zarrc` (shared library;
                   the wheel then needs that library at run time; an rpath to its libdir is set).
  /path/libzarrc.a an already built static archive (e.g. the in-tree build/libzarrc.a);
                   headers from ZARRC_INCLUDE_DIR or the repository's include/.
The static variants link libzarrc's own dependencies (json-c, blosc, zstd, lz4, zlib, lzma,
libdeflate, bz2, zfp) as shared system libraries, so the installed package never refers to the
checkout. (libcurl and libcrypto are not linked: libzarrc loads them when a remote store opens.)
"""
import json
import os
import shlex
import subprocess
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
DEP_MODULES = ["json-c", "blosc", "libzstd", "liblz4", "zlib", "liblzma", "libdeflate"]
DEP_LIBS = ["bz2", "zfp", "dl", "pthread", "m"]  # (libcurl, libcrypto: loaded when a remote store opens)


def _pkg_config(*args):
    out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True)
    return shlex.split(out.stdout)


def _source_dir():
    cand = os.environ.get("ZARRC_SOURCE_DIR") or os.path.dirname(HERE)
    if os.path.isfile(os.path.join(cand, "CMakeLists.txt")) and \
            os.path.isfile(os.path.join(cand, "include", "zarrc.h")):
        return os.path.abspath(cand)
    return None


def _static_link(archive, include_dir):
    flags = _pkg_config("--libs", *DEP_MODULES)
    libs = [f[2:] for f in flags if f.startswith("-l")] + DEP_LIBS
    libdirs = [f[2:] for f in flags if f.startswith("-L")]
    return {"include_dirs": [include_dir], "extra_objects": [archive], "depends": [archive],
            "libraries": libs, "library_dirs": libdirs}


def _cmake_build(src):
    bdir = os.environ.get("ZARRC_CMAKE_BUILD_DIR") or os.path.join(HERE, "build", "libzarrc-cmake")
    jobs = os.environ.get("ZARRC_CMAKE_JOBS", "2")
    subprocess.run(["cmake", "-S", src, "-B", bdir, "-DCMAKE_BUILD_TYPE=Release",
                    "-DZARRC_BUILD_TESTS=OFF", "-DCMAKE_POSITION_INDEPENDENT_CODE=ON"],
                   check=True, stdout=sys.stderr)
    subprocess.run(["cmake", "--build", bdir, "--target", "zarrc_static", "-j", jobs],
                   check=True, stdout=sys.stderr)
    return os.path.join(bdir, "libzarrc.a")


def link_config():
    mode = os.environ.get("ZARRC_LIBZARRC", "auto")
    src = _source_dir()
    if mode.endswith(".a"):
        inc = os.environ.get("ZARRC_INCLUDE_DIR") or (src and os.path.join(src, "include"))
        if not inc:
            raise SystemExit("zarrc: ZARRC_LIBZARRC is an archive: set ZARRC_INCLUDE_DIR")
        return _static_link(os.path.abspath(mode), inc)
    if mode in ("auto", "source") and src:
        return _static_link(_cmake_build(src), os.path.join(src, "include"))
    if mode == "source":
        raise SystemExit("zarrc: ZARRC_LIBZARRC=source but no zarrc repository found "
                         "(set ZARRC_SOURCE_DIR)")
    if mode not in ("auto", "pkg-config"):
        raise SystemExit(f"zarrc: unknown ZARRC_LIBZARRC={mode!r}")
    cflags = _pkg_config("--cflags", "zarrc")
    libs = _pkg_config("--libs", "zarrc")
    libdirs = [f[2:] for f in libs if f.startswith("-L")]
    return {"include_dirs": [f[2:] for f in cflags if f.startswith("-I")],
            "library_dirs": libdirs, "runtime_library_dirs": libdirs,
            "libraries": [f[2:] for f in libs if f.startswith("-l")]}


# Only commands that compile need the library (not egg_info / sdist metadata queries).
if any(a in sys.argv for a in ("build_ext", "build", "bdist_wheel", "install", "develop",
                               "editable_wheel", "build_py")) and "ZARRC_CFFI_LINK" not in os.environ:
    os.environ["ZARRC_CFFI_LINK"] = json.dumps(link_config())

setup(cffi_modules=["zarrc_build.py:ffibuilder"])
