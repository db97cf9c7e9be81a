"""Is this interpreter the pinned Python peer environment? (stdlib only, no network)

usage: python check_venv.py REQUIREMENTS.txt [--versions]

Exit 0 when every `name==version` pin of REQUIREMENTS.txt is installed at exactly that version
and the peers import; otherwise print what differs and exit 1. With --versions, print one line
per peer with its version (the interop suites start with these lines).
"""
import importlib
import importlib.metadata as md
import re
import sys

# distribution name -> module to import, for the peers the tests drive
PEERS = [("zarr", "zarr", "zarr-python"), ("numcodecs", "numcodecs", "numcodecs"),
         ("tensorstore", "tensorstore", "tensorstore"), ("zarrs", "zarrs", "zarrs-python"),
         ("numpy", "numpy", "numpy"), ("moto", "moto.server", "moto"), ("obstore", "obstore", "obstore"),
         ("tiled", "tiled.client", "tiled"), ("pynwb", "pynwb", "pynwb"),
         ("hdmf-zarr", "hdmf_zarr", "hdmf-zarr"), ("pydantic-zarr", "pydantic_zarr", "pydantic-zarr"),
         ("zfpy", "zfpy", "zfpy"), ("pytest", "pytest", "pytest"),
         ("distributed", "distributed", "dask.distributed"), ("cast-value-rs", "cast_value_rs", "cast-value-rs")]


def pins(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
            if not m:
                raise ValueError("%s: not an exact pin: %r" % (path, line))
            out[m.group(1)] = m.group(2)
    return out


def problems(path):
    probs = []
    if sys.version_info < (3, 12):
        probs.append("Python %d.%d is too old (zarr 3.4 needs >= 3.12)" % sys.version_info[:2])
    for name, want in pins(path).items():
        try:
            have = md.version(name)
        except md.PackageNotFoundError:
            probs.append("%s is not installed (want %s)" % (name, want))
            continue
        if have != want:
            probs.append("%s %s is installed, want %s" % (name, have, want))
    if not probs:
        for _, mod, _ in PEERS:
            try:
                importlib.import_module(mod)
            except Exception as e:  # a broken wheel, a missing shared library
                probs.append("import %s failed: %s" % (mod, e))
    return probs


def version_lines():
    return ["peer: %s %s" % (label, md.version(dist)) for dist, _, label in PEERS]


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    probs = problems(sys.argv[1])
    for p in probs:
        print("check_venv: %s" % p)
    if probs:
        return 1
    if sys.argv[2:] == ["--versions"]:
        print("\n".join(version_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
