"""Per-call overhead of the decorators over the bare function, when nothing fails.

    .venv/bin/python benchmarks/decorators.py [--number N] [--repeat R] [--no-sentry]

Sentry is initialised with a transport that drops everything (the realistic state in production: a
client is active), unless --no-sentry. Every variant is timed in the same run, interleaved, and the
median of R repeats of N calls is reported in ns per call. `with_sentry_context` and `capture_errors`
must stay within 1 µs of the bare function (PASS/FAIL, exit status 1 on a FAIL); `trace` and `monitor`
do real work on every call (a span, two check-ins) and are shown for information.
"""
import argparse
import os
import statistics
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BUDGET_NS = 1000.0


def build(with_sentry):
    import sentry_sdk
    from sentry_sdk.transport import Transport

    from sentry_bootstrap.decorators import capture_errors, monitor, trace, with_sentry_context

    class DropTransport(Transport):
        def capture_envelope(self, envelope):
            pass

    if with_sentry:
        sentry_sdk.init(dsn="http://public@127.0.0.1:9/1", transport=DropTransport,
                        default_integrations=False, traces_sample_rate=0.0)

    def bare(a, b=2):
        return a + b

    class Service:
        def method(self, a, b=2):
            return a + b

        @with_sentry_context("bench")
        def method_context(self, a, b=2):
            return a + b

        @capture_errors("bench")
        def method_capture(self, a, b=2):
            return a + b

    service = Service()
    variants = [
        ("bare function", bare, None),
        ("with_sentry_context", with_sentry_context("bench")(bare), "bare function"),
        ("capture_errors", capture_errors("bench")(bare), "bare function"),
        ("capture_errors(reraise=False)", capture_errors("bench", reraise=False)(bare),
         "bare function"),
        ("bare method", service.method, None),
        ("method with_sentry_context", None, "bare method"),
        ("method capture_errors", None, "bare method"),
        ("trace (info)", trace("function", "bench")(bare), "bare function"),
        ("monitor (info)", monitor("bench-slug")(bare), "bare function"),
    ]
    calls = {}
    for name, fn, _ in variants:
        if name == "bare method":
            calls[name] = lambda: service.method(1)
        elif name == "method with_sentry_context":
            calls[name] = lambda: service.method_context(1)
        elif name == "method capture_errors":
            calls[name] = lambda: service.method_capture(1)
        else:
            calls[name] = (lambda f: lambda: f(1))(fn)
    return variants, calls


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--no-sentry", action="store_true")
    args = parser.parse_args(argv)

    variants, calls = build(not args.no_sentry)
    samples = {name: [] for name in calls}
    for _ in range(args.repeat):  # interleaved, so drift in machine load hits every variant alike
        for name, call in calls.items():
            number = args.number if "(info)" not in name else max(1, args.number // 20)
            samples[name].append(timeit.timeit(call, number=number) / number * 1e9)

    median = {name: statistics.median(values) for name, values in samples.items()}
    failed = False
    print("sentry {}; median of {} x {} calls; budget {:.0f} ns over the bare call".format(
        "off" if args.no_sentry else "on", args.repeat, args.number, BUDGET_NS))
    print("{:<32} {:>10} {:>10}  {}".format("variant", "ns/call", "overhead", "verdict"))
    for name, _, baseline in variants:
        if baseline is None:
            print("{:<32} {:>10.0f} {:>10}".format(name, median[name], "-"))
            continue
        overhead = median[name] - median[baseline]
        if "(info)" in name:
            verdict = "info"
        else:
            ok = overhead <= BUDGET_NS
            failed = failed or not ok
            verdict = "PASS" if ok else "FAIL"
        print("{:<32} {:>10.0f} {:>10.0f}  {}".format(name, median[name], overhead, verdict))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
