"""`bundle DIR`: a relocatable hook directory for any interpreter, with every runtime dependency.

    DIR/sitecustomize.py            the hook
    DIR/sentry_bootstrap/           the package
    DIR/sentry-bootstrap-deps/      sentry_sdk, urllib3, certifi, pydantic (+ pydantic_core for every
                                    target Python and platform), PyYAML, wrapt, ... from wheels
    DIR/BUNDLE.json                 what is inside: versions, targets, bytecode
    **/__pycache__/*.cpython-3X.pyc bytecode for each target Python an interpreter was found for

`PYTHONPATH=DIR` is all an interpreter needs. The dependencies live in a directory whose name can't be
imported, and the hook's fallback finder supplies them only where the program has none of its own
(bootstrap/sitecustomize.py, sentry_bootstrap/deps.py). Compiled modules carry their ABI in their file
names (`_pydantic_core.cpython-311-x86_64-linux-gnu.so`), so the wheels of every target unpack side by
side; the pure-Python files of one version are the same in each.

Wheels come from pip (`pip download --only-binary :all:` for each target), first resolved for the
oldest target Python and then pinned for the others, so every target gets the same versions.
`--find-links DIR --no-index` builds from a local wheelhouse; `--wheelhouse DIR` keeps the downloads.

Bytecode: a bundle is often mounted read-only (or run with PYTHONDONTWRITEBYTECODE), where Python
would compile the hook and its dependencies again in every process (23-68 ms against 4.5-12.6 ms).
So each target Python's interpreter found here (`python3.X` on PATH, or this one) compiles every
file, as `checked-hash` bytecode (PEP 552): valid wherever the files are copied, whatever their
times, and never used for a source that changed. A target with no interpreter here is named.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

DEPS_DIR = "sentry-bootstrap-deps"
PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
PLATFORMS = ("x86_64", "aarch64")
# PyYAML's optional C loader (2.5 MB a target, a third of the bundle): the hook reads one small file,
# once per cold start, with the pure-Python loader instead.
_SKIPPED = re.compile(r"^(yaml/_yaml\.|_yaml/_yaml\.).*\.so$")
# manylinux tags pip may take for a Linux machine of each architecture, newest first.
_MANYLINUX = ("manylinux_2_28_{}", "manylinux_2_17_{}", "manylinux2014_{}")


def add_arguments(parser, name):
    parser.add_argument("dir", metavar="DIR", help="the directory to write (created; must be empty if it exists)")
    parser.add_argument("--python", dest="pythons", action="append", metavar="X.Y",
                        help="a target CPython version (repeatable; default: {})".format(" ".join(PYTHONS)))
    parser.add_argument("--platform", dest="platforms", action="append", choices=PLATFORMS,
                        help="a target Linux architecture (repeatable; default: both)")
    parser.add_argument("--find-links", metavar="PATH", action="append",
                        help="a local directory of wheels for pip (repeatable)")
    parser.add_argument("--no-index", action="store_true", help="use only --find-links, not the package index")
    parser.add_argument("--wheelhouse", metavar="PATH", help="keep the downloaded wheels here")


def run(args):
    target = os.path.abspath(args.dir)
    if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
        sys.stderr.write("sentry-bootstrap bundle: {} exists and is not an empty directory\n".format(target))
        return 2
    pythons = tuple(args.pythons or PYTHONS)
    platforms = tuple(args.platforms or PLATFORMS)
    for version in pythons:
        if version not in PYTHONS:
            sys.stderr.write("sentry-bootstrap bundle: --python {} is not one of {}\n".format(version, ", ".join(PYTHONS)))
            return 2
    wheelhouse = os.path.abspath(args.wheelhouse) if args.wheelhouse else tempfile.mkdtemp(prefix="sb-wheels-")
    try:
        try:
            wheels = download(runtime_requirements(), sorted(pythons, key=_version_key), platforms,
                              wheelhouse, args.find_links, args.no_index)
        except DownloadError as exc:
            sys.stderr.write("sentry-bootstrap bundle: {}\n".format(exc))
            return 1
        manifest = build(target, wheels, pythons, platforms)
    finally:
        if not args.wheelhouse:
            shutil.rmtree(wheelhouse, ignore_errors=True)
    size = directory_size(target)
    print("wrote {} ({:.1f} MB): PYTHONPATH={} covers CPython {} on Linux {}".format(
        target, size / 1e6, target, ", ".join(pythons), ", ".join(platforms)))
    print("dependencies: " + ", ".join("{} {}".format(n, v) for n, v in sorted(manifest["packages"].items())))
    return 0


class DownloadError(Exception):
    pass


def _version_key(python):
    return tuple(int(p) for p in python.split("."))


def runtime_requirements():
    """Our distribution's runtime requirements, as declared (extras and build helpers left out)."""
    import importlib.metadata as metadata

    requirements = metadata.requires("sentry-bootstrap") or []
    # `editables` is what an editable install of this package adds for itself, not a dependency.
    return [r for r in requirements if "extra ==" not in r and not r.startswith("editables")]


_PYTHON_MARKER = re.compile(r"""^\s*python_version\s*(<=|>=|==|!=|<|>)\s*['"]([0-9.]+)['"]\s*$""")


def for_python(requirements, python):
    """The requirements that apply to target `python`. pip evaluates markers against the interpreter
    it runs in, not the target, so `python_version` markers (the only kind we declare) are decided
    here; a requirement with any other marker is an error in our own metadata."""
    chosen = []
    target = tuple(int(p) for p in python.split("."))
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        if not marker.strip():
            chosen.append(spec.strip())
            continue
        match = _PYTHON_MARKER.match(marker)
        if match is None:
            raise DownloadError("unsupported marker in a runtime requirement: " + requirement)
        op, version = match.groups()
        bound = tuple(int(p) for p in version.split("."))
        if {"<": target < bound, "<=": target <= bound, ">": target > bound, ">=": target >= bound,
                "==": target == bound, "!=": target != bound}[op]:
            chosen.append(spec.strip())
    return chosen


def _pip_download(requirements, python, platform, dest, find_links, no_index, constraints=None):
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--only-binary", ":all:", "--implementation", "cp", "--python-version", python,
            "--abi", "cp" + python.replace(".", ""), "--abi", "abi3", "--abi", "none", "--dest", dest]
    for tag in _MANYLINUX:
        argv += ["--platform", tag.format(platform)]
    argv += ["--platform", "any"]
    for link in find_links or ():
        argv += ["--find-links", link]
    if no_index:
        argv += ["--no-index"]
    if constraints:
        argv += ["--constraint", constraints]
    argv += list(requirements)
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if done.returncode != 0:
        raise DownloadError("pip could not fetch wheels for CPython {} on {}:\n{}".format(
            python, platform, done.stderr.strip()[-2000:]))


def _wheel_name_version(filename):
    name, version = filename.split("-")[:2]
    return name.lower().replace("_", "-"), version


def download(requirements, pythons, platforms, wheelhouse, find_links=None, no_index=False):
    """Every wheel the targets need, in `wheelhouse`: {target: [wheel paths]}."""
    # Resolve once, for the oldest Python, and pin: the newer ones get the same versions.
    first = os.path.join(wheelhouse, "{}-{}".format(pythons[0], platforms[0]))
    os.makedirs(first, exist_ok=True)
    _pip_download(for_python(requirements, pythons[0]), pythons[0], platforms[0], first, find_links, no_index)
    pins = dict(_wheel_name_version(n) for n in os.listdir(first) if n.endswith(".whl"))
    constraints = os.path.join(wheelhouse, "constraints.txt")
    with open(constraints, "w") as handle:
        handle.writelines("{}=={}\n".format(n, v) for n, v in sorted(pins.items()))
    wheels = {}
    for python in pythons:
        for platform in platforms:
            dest = os.path.join(wheelhouse, "{}-{}".format(python, platform))
            os.makedirs(dest, exist_ok=True)
            if dest != first:
                _pip_download(for_python(requirements, python), python, platform, dest, find_links, no_index,
                              constraints)
            wheels[(python, platform)] = sorted(os.path.join(dest, n) for n in os.listdir(dest) if n.endswith(".whl"))
    return wheels


def _unpack(wheel, deps):
    """Unpack one wheel into `deps`; files already there (the same pure-Python file from another
    target's wheel) are kept."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            parts = name.split("/")
            if parts[0].endswith(".data") and len(parts) > 2 and parts[1] in ("purelib", "platlib"):
                name = "/".join(parts[2:])  # installed at the top like the rest
            elif parts[0].endswith(".data") or info.is_dir():
                continue  # scripts, headers: nothing the hook imports
            if _SKIPPED.match(name):
                continue
            path = os.path.join(deps, *name.split("/"))
            if os.path.exists(path):
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with archive.open(info) as source, open(path, "wb") as out:
                shutil.copyfileobj(source, out)


def build(target, wheels, pythons, platforms):
    """Write the bundle: the hook, the package, the unpacked dependencies, and BUNDLE.json."""
    from sentry_bootstrap import __version__
    from sentry_bootstrap._paths import hook_dir

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.makedirs(target, exist_ok=True)
    shutil.copy2(os.path.join(hook_dir(), "sitecustomize.py"), os.path.join(target, "sitecustomize.py"))
    shutil.copytree(package, os.path.join(target, "sentry_bootstrap"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    deps = os.path.join(target, DEPS_DIR)
    os.makedirs(deps)
    packages = {}
    for paths in wheels.values():
        for wheel in paths:
            _unpack(wheel, deps)
            name, version = _wheel_name_version(os.path.basename(wheel))
            packages[name] = version
    manifest = {"sentry-bootstrap": __version__, "pythons": list(pythons), "platforms": list(platforms),
                "packages": packages, "bytecode": compile_bytecode(target, pythons)}
    with open(os.path.join(target, "BUNDLE.json"), "w") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return manifest


def compile_bytecode(target, pythons):
    """Compile every file of the bundle with each target's interpreter found here; the versions
    compiled, in order. Says which targets got none (their bytecode is written on first import
    where the bundle is writable)."""
    compiled = []
    own = "%d.%d" % sys.version_info[:2]
    for version in sorted(pythons, key=_version_key):
        python = sys.executable if version == own else shutil.which("python" + version)
        if python is None:
            sys.stderr.write("sentry-bootstrap bundle: no python{} here: its bytecode is not in the "
                             "bundle\n".format(version))
            continue
        done = subprocess.run([python, "-m", "compileall", "-q", "--invalidation-mode",
                               "checked-hash", os.path.join(target, "sitecustomize.py"),
                               os.path.join(target, "sentry_bootstrap"), os.path.join(target, DEPS_DIR)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, env=dict(os.environ, PYTHONPATH=""))
        if done.returncode != 0:  # a file for another version only: the rest is compiled
            sys.stderr.write("sentry-bootstrap bundle: python{}: some files not compiled: {}\n".format(
                version, " ".join(done.stdout.split())[:500]))
        compiled.append(version)
    return compiled


def directory_size(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(root, name)).st_size
    return total
