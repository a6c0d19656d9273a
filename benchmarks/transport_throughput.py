"""Healthy-path throughput of DurableTransport against the SDK's plain HttpTransport.

    .venv/bin/python benchmarks/transport_throughput.py [--events N] [--rounds R] [--batch B]

A test Sentry server (tests/support/sentry_server.py) runs in its own process on 127.0.0.1 and answers
200. Each round initialises the SDK with one transport and captures N messages, flushing every B of
them so the queue never overflows (an overflow would be dropped by one transport and spooled by the
other, which is not the healthy path): the time covers capture and delivery. Rounds alternate between
the transports in the same run, in alternating order; the best round per transport is compared
(the median is shown too). A second measurement times the
capture calls alone (queue large enough for all N, delivery after the clock stops).
Target: DurableTransport at most 5% slower (PASS/FAIL; exit status 1 on a FAIL).

`spool.write_ahead: true` is measured side by side too: its ratio to the plain transport and its cost
per event are printed, without a target (it buys surviving kill -9 with one file write, rename and
unlink per envelope).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGET = 1.05

SERVER = """
import sys, time
sys.path.insert(0, %r)
from tests.support.sentry_server import SentryServer
server = SentryServer().start()
print(server.dsn, flush=True)
sys.stdin.readline()
"""


def start_server():
    proc = subprocess.Popen([sys.executable, "-c", SERVER % ROOT], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def one_round(transport, dsn, events, batch, queue_size):
    import sentry_sdk

    sentry_sdk.init(dsn=dsn, transport=transport, default_integrations=False,
                    transport_queue_size=queue_size)
    sentry_sdk.capture_message("warm-up")
    sentry_sdk.flush(10)
    started = time.perf_counter()
    for i in range(events):
        sentry_sdk.capture_message("benchmark %d" % i)
        if batch and (i + 1) % batch == 0:
            sentry_sdk.flush(10)
    captured = time.perf_counter() - started
    sentry_sdk.flush(30)
    total = time.perf_counter() - started
    sentry_sdk.get_client().close()
    return captured if not batch else total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args(argv)

    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="sb-bench-")
    ahead = tempfile.mkdtemp(prefix="sb-bench-ahead-")
    from sentry_sdk.transport import HttpTransport

    from sentry_bootstrap.transport.durable import make_transport

    transports = {"plain HttpTransport": HttpTransport, "DurableTransport": make_transport(None, {}),
                  # Their own spool directories, so that the check below still sees the plain
                  # durable transport's (absent) one.
                  "write-ahead": make_transport(None, {"write_ahead": True, "path": ahead + "/a"})}
    server, dsn = start_server()
    failed = False
    try:
        for label, batch, queue_size in (("capture + delivery", args.batch, 100),
                                         ("capture calls only", 0, args.events + 10)):
            times = {name: [] for name in transports}
            order = list(transports)
            for _ in range(args.rounds):
                order.reverse()  # neither transport always runs first
                for name in order:
                    times[name].append(
                        one_round(transports[name], dsn, args.events, batch, queue_size))
            # The best round is the one least disturbed by the rest of the machine.
            plain = min(times["plain HttpTransport"])
            durable = min(times["DurableTransport"])
            ratio = durable / plain
            print("%s (%d events, best of %d rounds; median in brackets):"
                  % (label, args.events, args.rounds))
            for name in transports:
                best, med = min(times[name]), statistics.median(times[name])
                print("  %-20s %8.1f events/s  (%.1f)" % (name, args.events / best, args.events / med))
            verdict = "PASS" if ratio <= TARGET else "FAIL"
            failed = failed or ratio > TARGET
            print("  durable/plain time ratio %.3f (target <= %.2f): %s" % (ratio, TARGET, verdict))
            best = min(times["write-ahead"])
            print("  write-ahead/plain time ratio %.3f, %+.0f us per event (no target)"
                  % (best / plain, (best - plain) / args.events * 1e6))
        spool = os.path.join(os.environ["XDG_STATE_HOME"], "sentry-bootstrap", "spool")
        print("spool directory created on the healthy path: %s" % os.path.exists(spool))
        print("envelope files left by write-ahead: %d" % sum(
            len([n for n in files if ".envelope" in n]) for _d, _s, files in os.walk(ahead)))
    finally:
        server.stdin.write("\n")
        server.stdin.flush()
        server.wait(10)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
