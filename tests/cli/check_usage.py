#!/usr/bin/env python3
"""cli.usage_forms: one usage form per verb, everywhere.

For every verb `zarrc --help` lists, the synopsis (the "usage:" block of `zarrc VERB --help`)
must be, byte for byte, the usage block of `zarrc help VERB`, of the error on bad usage
(an unknown option, missing arguments) and of the listing `zarrc` prints without arguments,
and, line by line with whitespace runs collapsed, a code block of docs/cli.md. Any other line
of docs/cli.md or README.md that looks like a synopsis (starts with `zarrc VERB` and has an
upper-case placeholder such as NODE) must be one of that verb's synopsis lines. The tool's
own synopsis likewise. Exits 1 naming each mismatch.

usage: check_usage.py ZARRC DOCS_CLI_MD README_MD
"""
import re
import subprocess
import sys

ZARRC, DOCS, README = sys.argv[1:4]
problems = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        problems.append(what)


def run(*args):
    p = subprocess.run([ZARRC, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def norm(line):
    return " ".join(line.split())


def usage_block(text):
    """The raw usage block: from the line starting with 'usage: ' to the next blank line (or
    the 'Try ...' line), as text, and its normalized lines without the 'usage: ' prefix."""
    lines = text.split("\n")
    for i, l in enumerate(lines):
        if l.startswith("usage: "):
            j = i
            while j < len(lines) and lines[j].strip() and not lines[j].startswith("Try '"):
                j += 1
            block = lines[i:j]
            return "\n".join(block), [norm(block[0][len("usage: "):])] + [norm(x) for x in block[1:]]
    return None, []


rc, main_help, _ = run("--help")
check(rc == 0, "zarrc --help exits 0")
m = re.search(r"\nVerbs:\n((?:  \S+ +.*\n)+)", main_help)
verbs = [l.split()[0] for l in m.group(1).splitlines()] if m else []
check(len(verbs) >= 17, f"zarrc --help lists the verbs (found {verbs})")
tool_raw, tool_syn = usage_block(main_help)
check(tool_raw is not None, "zarrc --help has a usage block")

rc, _, listing = run()
check(rc == 2, "zarrc without arguments exits 2")
check(tool_raw is not None and tool_raw in listing, "zarrc without arguments shows the tool's usage block of --help")
rc, _, err = run("--no-such-option")
check(rc == 2 and tool_raw is not None and tool_raw + "\n" in err,
      "an unknown global option shows the tool's usage block of --help")
listing_lines = [norm(l) for l in listing.splitlines()]

docs = open(DOCS, encoding="utf-8").read()
readme = open(README, encoding="utf-8").read()


def code_blocks(text):
    return [b.split("\n") for b in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)]


doc_blocks = [[norm(l) for l in b] for b in code_blocks(docs)]


def in_docs(syn):
    for b in doc_blocks:
        for i in range(len(b) - len(syn) + 1):
            if b[i:i + len(syn)] == syn:
                return True
    return False


check(in_docs(tool_syn), f"docs/cli.md shows the tool's synopsis {tool_syn}")
synopses = {}
for v in verbs:
    rc, out, err = run(v, "--help")
    check(rc == 0 and not err, f"zarrc {v} --help exits 0 quietly")
    raw, syn = usage_block(out)
    check(raw is not None and out.startswith("usage: zarrc " + v),
          f"zarrc {v} --help starts with 'usage: zarrc {v}'")
    if raw is None:
        continue
    synopses[v] = syn
    for l in syn:
        check(l.startswith("zarrc " + v) or l[:1] in "[(",
              f"{v}: every synopsis line names the verb (or continues the line before): {l!r}")
    rc, out2, _ = run("help", v)
    check(rc == 0 and out2 == out, f"zarrc help {v} prints what zarrc {v} --help prints")
    tail = "\nTry 'zarrc help %s' for more information.\n" % v
    bad = {"help": ["help", "a", "b"], "hierarchy": ["hierarchy", "create", "--no-such-option"],
           "view": ["view", "concat", "--no-such-option"]}.get(v, [v, "--no-such-option"])
    rc, _, err = run(*bad)
    check(rc == 2 and err.startswith(f"zarrc: {v}: ") and raw + tail in err,
          f"zarrc {' '.join(bad)}: exit 2 and the usage block of --help (got {err!r})")
    if v != "help":
        rc, _, err = run(v)
        check(rc == 2 and raw + tail in err, f"zarrc {v} (no arguments): exit 2 and the usage block (got {err!r})")
    for l in syn:
        check(l in listing_lines, f"zarrc without arguments lists {l!r}")
    check(in_docs(syn), f"docs/cli.md has the synopsis of {v} as a code block: {syn}")
    check(re.search(r"^\| `%s[` ]" % re.escape(v), docs, re.M) is not None, f"docs/cli.md's verb table lists {v}")

# Lines elsewhere that look like a synopsis must be one.
all_lines = {l for s in synopses.values() for l in s} | set(tool_syn)
for name, text in (("docs/cli.md", docs), ("README.md", readme)):
    for b in code_blocks(text):
        for l in b:
            n = norm(l)
            mm = re.match(r"zarrc (\w+)\b", n)
            if not mm or mm.group(1) not in synopses or "#" in n:
                continue
            if re.search(r"\b(NODE|SRC|DST|OUT|ROOT|VERB|FILE|JSON|SEL)\b", n) and "[" in n:
                check(n in all_lines, f"{name}: {n!r} looks like a synopsis of {mm.group(1)} but is not one "
                      f"(zarrc {mm.group(1)} --help: {synopses[mm.group(1)]})")

for p in problems:
    print("cli.usage_forms:", p)
print(f"cli.usage_forms: {len(verbs)} verbs, {checks} checks, {len(problems)} problems")
sys.exit(1 if problems else 0)
