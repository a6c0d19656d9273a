"""What `monitors:` costs a process at start: the matching, per command line and number of entries.

    python benchmarks/monitors.py [--number 2000]

The hook asks `monitors.monitor_for` once per start when `monitors:` is set (a process with no
`monitors:` doesn't import the module). Prints the median of five timeit runs, in microseconds, for
1, 20 and 100 entries (half argv patterns, half script paths), against a Django `runserver` command
line that none matches and a `manage.py clearsessions` that the last entry matches. Standard
library only; the numbers are for a quiet machine.
"""
import argparse
import os
import statistics
import sys
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bootstrap"))

from sentry_bootstrap import monitors  # noqa: E402
from sentry_bootstrap.processes import ProcessInfo  # noqa: E402

COMMANDS = {
    "unmatched": ["python3", "/srv/app/manage.py", "runserver", "0.0.0.0:8000", "--noreload"],
    "matched last": ["python3", "/srv/app/manage.py", "clearsessions", "-v", "2"],
}


def entries(count):
    half = count // 2
    found = [{"slug": "job-%d" % i, "argv": "manage.py job%d" % i} for i in range(half)]
    found += [{"slug": "script-%d" % i, "script": "jobs/job%d.py" % i}
              for i in range(count - half - 1)]
    return found + [{"slug": "clear", "argv": "manage.py clearsessions"}]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args(argv)
    for name, command in COMMANDS.items():
        info = ProcessInfo.from_command_line(command)
        for count in (1, 20, 100):
            table = entries(count)
            runs = timeit.repeat(lambda: monitors.monitor_for(info, table), number=args.number,
                                 repeat=5)
            print("{:<13} {:>3} entries: {:8.1f} us".format(
                name, count, statistics.median(runs) / args.number * 1e6))


if __name__ == "__main__":
    main()
