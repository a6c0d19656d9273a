"""The README's demo transcript, made from a run of scripts/demo (and checked against a fresh run by
tests/test_readme.py).

    bash scripts/demo --readme        # run the demo and rewrite the README's transcript from it

The README shows the run as a reader in `~/sentry-bootstrap` would see it, shortened where a screen
of output says nothing new: the program's own traceback is elided (Python's carets differ between
versions), and `events show` keeps its header, the innermost frame, the breadcrumbs and the tags.
`excerpt()` is that shortening, the only one; `masked()` is what may differ between two runs (times,
ids, hashes, durations and paths), for the comparison.
"""
import re
import sys

HOME_CHECKOUT = "~/sentry-bootstrap"  # where the README's reader has the checkout
START = "<!-- demo transcript: written by `bash scripts/demo --readme` -->\n```\n"
END = "```\n<!-- end of demo transcript -->"
ELIDED = "  ..."

_TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?Z?")
_DURATION = re.compile(r"took=\d+(?:\.\d+)?ms|after \d+ ms")
_ENVELOPE = re.compile(r"\b\d{10,}-\d+-[0-9a-f]+-\d+-\d+\.envelope\b")
_HEX = re.compile(r"\b[0-9a-f]{8,40}\b")
# An absolute or home path of two or more parts (a lone " / " in source code is not one).
_PATH = re.compile(r"(?<![\w.])(?:~|/[\w.+-]+)(?:/[\w.+<>-]+)+/?")


def normalized(transcript, checkout):
    """The demo's output as the README's reader sees it: the checkout at ~/sentry-bootstrap."""
    return transcript.replace(checkout.rstrip("/"), HOME_CHECKOUT)


def _show_excerpt(lines):
    """`events show` output: the header; the innermost frame with its marked source line and its
    locals, and the exception line; the breadcrumbs and tags (the contexts are left out)."""
    if "Traceback (most recent call last):" not in lines:
        return lines
    start = lines.index("Traceback (most recent call last):") + 1
    frames = [i for i in range(start, len(lines)) if lines[i].startswith('  File "')]
    context = re.compile(r"^ {4,}\d+ \| ")  # a source line around the marked one (`   >    28 | `)
    last = [line for line in lines[frames[-1]:] if not context.match(line)]
    kept = lines[:start] + ([ELIDED] if len(frames) > 1 else []) + last
    if "Contexts" in kept:
        at = kept.index("Contexts")
        end = next((i for i in range(at, len(kept)) if not kept[i].strip()), len(kept))
        kept = kept[:at - 1] + kept[end:]  # the heading, the blank line before it, the section
    return kept


def excerpt(transcript):
    """The README's shortening of a (normalized) demo transcript."""
    out = []
    blocks, current = [], []
    for line in transcript.splitlines():  # a block: a `$` or `#` line and what it printed
        if line.startswith(("$ ", "# ")) and current and not current[-1].startswith("# "):
            blocks.append(current)
            current = []
        current.append(line)
    blocks.append(current)
    for block in blocks:
        command = next((l for l in block if l.startswith("$ ")), "")
        if " events show" in command:
            block = _show_excerpt(block)
        elif "Traceback (most recent call last):" in block:  # the program's own traceback
            at = block.index("Traceback (most recent call last):")
            end = next(i for i in range(at + 1, len(block)) if not block[i].startswith(" "))
            block = block[:at + 1] + [ELIDED] + block[end:]
        out.extend(block)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


def masked(text):
    """`text` with what differs between two runs replaced: paths, times, durations, ids."""
    text = _ENVELOPE.sub("ID.envelope", text)
    text = _PATH.sub("PATH", text)
    text = _TIME.sub("TIME", text)
    text = _DURATION.sub("DURATION", text)
    return _HEX.sub("ID", text)


def readme_transcript(readme):
    """The transcript in the README's text, or None when its markers are missing."""
    if START not in readme or END not in readme:
        return None
    return readme.split(START, 1)[1].split(END, 1)[0]


def write(readme_path, transcript, checkout):
    """Replace the README's transcript with the excerpt of `transcript` (a fresh demo run)."""
    with open(readme_path, encoding="utf-8") as handle:
        readme = handle.read()
    if readme_transcript(readme) is None:
        raise SystemExit("{}: no demo transcript markers ({!r} ... {!r})".format(readme_path, START, END))
    before, rest = readme.split(START, 1)
    after = rest.split(END, 1)[1]
    with open(readme_path, "w", encoding="utf-8") as handle:
        handle.write(before + START + excerpt(normalized(transcript, checkout)) + END + after)


if __name__ == "__main__":
    # python3 scripts/demo_transcript.py README.md CHECKOUT < transcript
    write(sys.argv[1], sys.stdin.read(), sys.argv[2])
