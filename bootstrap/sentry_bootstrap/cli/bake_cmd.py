"""`bake`: validate the configuration at an image's build time and write the result beside the
package, read-only (`config.cache.bake`), so that the first process of every container starts warm:
the state directory, where the per-user cache lives, starts empty in each container.

Run it in the image as the application runs: with the same Python, in the same working directory
(`WORKDIR`) and with the same variables (`ENV` lines before it). The entry is found when a process's
inputs are these; one whose inputs differ (a variable given only at run time, a newer file)
validates at its start, as without a baked entry. The values are stored readable by every user of
the image, the DSN among them.
"""
import os
import sys


def add_arguments(parser, name):
    parser.description = ("validate sentry.yaml now and write the result into the image, read-only, so "
                          "that each container's first process starts warm")


def run(args):
    from sentry_bootstrap.config import cache
    from sentry_bootstrap.config.discovery import discover
    from sentry_bootstrap.config.errors import ConfigError
    from sentry_bootstrap.config.loader import load_config

    environ = os.environ
    discovered = discover(environ, os.getcwd())
    config_file, _shown, problems = discovered
    if problems or not config_file:
        for problem in problems:
            sys.stderr.write("sentry-bootstrap bake: {}\n".format(problem))
        if not problems:
            sys.stderr.write("sentry-bootstrap bake: no sentry.yaml here and no SENTRY_CONFIG_FILE: "
                             "nothing to bake\n")
        return 1
    try:
        resolved = load_config(environ=environ, discovered=discovered)
    except ConfigError as error:
        for problem in error.problems:
            sys.stderr.write("{}\n".format(problem))
        return 1
    path = cache.bake(config_file, environ, os.path.dirname(config_file), resolved)
    names = cache.key_variables(config_file, environ)
    print("baked {} for {} (environment {}, Python {}.{}, working directory {})".format(
        path, config_file, resolved.environment, sys.version_info[0], sys.version_info[1],
        os.getcwd()))
    print("a process starts warm from it with the same file and the same values of: {}".format(
        ", ".join(names) if names else "(no variable)"))
    return 0
