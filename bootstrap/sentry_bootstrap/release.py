"""Release resolution: git read from the `.git` files, then CI variables, then the package version.

The hook runs this in every process, so it starts no subprocess and imports only the standard
library. Nothing here raises except `ReleaseFormatError`, for a format the caller asked for and that
can't be filled.
"""
import os

from sentry_bootstrap._files import CONFIG_LIMIT, SMALL_LIMIT, open_regular, read_bounded

# A short sha is 7 hex digits: git's own default abbreviation and what `git log --oneline` shows on
# a small repository. Unlike git, it is never lengthened to stay unique, so it is stable.
SHORT_SHA_LENGTH = 7

# The CI variables `sentry_sdk.utils.get_default_release` reads, in its order (copied so that this
# hot module never imports sentry_sdk). GITHUB_SHA is not among them: a GitHub Actions checkout
# has a `.git`, which is read first.
CI_RELEASE_VARIABLES = (
    "HEROKU_BUILD_COMMIT",
    "HEROKU_SLUG_COMMIT",
    "SOURCE_VERSION",
    "CODEBUILD_RESOLVED_SOURCE_VERSION",
    "CIRCLE_SHA1",
    "GAE_DEPLOYMENT_ID",
    "K_REVISION",
)

FORMAT_FIELDS = ("sha", "short_sha", "branch", "tag", "version")

_HEX_DIGITS = frozenset("0123456789abcdef")


def _is_hex_sha(text):
    """A full sha-1 or sha-256 object name, lower case. (No `re`: this runs at every start, and a
    bare interpreter doesn't load `re`.)"""
    return len(text) in (40, 64) and _HEX_DIGITS.issuperset(text)

# Refs git keeps per worktree; every other ref lives in the common directory.
_PER_WORKTREE = ("refs/worktree/", "refs/bisect/", "refs/rewritten/")
_MAX_SYMREF_DEPTH = 5
# Bounds on git's files (a big monorepo's packed-refs runs to a few MiB; anything past these is not
# a file git wrote, and the release falls back as when there is no git).
PACKED_REFS_LIMIT = 32 << 20
IDX_LIMIT = 64 << 20
_NO_LIMIT = 1 << 62  # a pack is read by offset, 4 KiB at most
_UNSET = object()


class ReleaseFormatError(Exception):
    """A release format names a placeholder that is unknown or that can't be filled here."""


class GitInfo:
    """What the hook needs from a git checkout.

    - `sha`: the full hex id of HEAD's commit, or None in a fresh repository with no commits.
    - `short_sha`: the first `SHORT_SHA_LENGTH` (7) digits of `sha`, or None.
    - `branch`: the checked-out branch (`feature/x`, without `refs/heads/`), None on a detached HEAD.
    - `tag`: a tag pointing at HEAD (annotated tags are peeled), or None. Computed on first access,
      because it means listing `refs/tags`. When several match, the highest in natural order wins
      (`v1.10` over `v1.9`).
    - `work_tree`: the directory holding `.git` (the checkout's root).
    - `git_dir`: the repository directory of this checkout (`.git`, or the worktree's or
      submodule's directory that a `.git` file points at).
    - `common_dir`: where shared refs and objects live (differs from `git_dir` in a worktree).
    - `head_path`: the HEAD file, for callers that stat it.
    """

    __slots__ = ("sha", "branch", "work_tree", "git_dir", "common_dir", "head_path", "_tag")

    def __init__(self, sha, branch, work_tree, git_dir, common_dir, head_path, tag=_UNSET):
        self.sha = sha
        self.branch = branch
        self.work_tree = work_tree
        self.git_dir = git_dir
        self.common_dir = common_dir
        self.head_path = head_path
        self._tag = tag

    @property
    def short_sha(self):
        return self.sha[:SHORT_SHA_LENGTH] if self.sha else None

    @property
    def tag(self):
        if self._tag is _UNSET:
            try:
                self._tag = _tag_at(self.git_dir, self.common_dir, self.sha) if self.sha else None
            except Exception:
                self._tag = None
        return self._tag

    def __repr__(self):
        return "GitInfo(sha={!r}, branch={!r}, work_tree={!r})".format(
            self.sha, self.branch, self.work_tree)


def read_git(start_dir):
    """The git checkout containing `start_dir` (searched upwards), or None when there is none.

    Reads HEAD, loose refs and packed-refs directly; follows a `.git` file's `gitdir:` (worktrees,
    submodules) and a worktree's `commondir`. A repository with no commits gives a GitInfo whose
    `sha` is None. Never raises.
    """
    try:
        found = _find_git_dir(start_dir)
        if found is None:
            return None
        work_tree, git_dir = found
        common_dir = git_dir
        commondir_file = os.path.join(git_dir, "commondir")
        if os.path.exists(commondir_file):
            common_dir = os.path.normpath(os.path.join(git_dir, _read_text(commondir_file).strip()))
        head_path = os.path.join(git_dir, "HEAD")
        head = _read_text(head_path).strip()
        if head.startswith("ref:"):
            ref = head[4:].strip()
            branch = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else None
            sha = _resolve_ref(git_dir, common_dir, ref)
        elif _is_hex_sha(head):
            branch, sha = None, head
        else:
            return None
        return GitInfo(sha, branch, work_tree, git_dir, common_dir, head_path)
    except Exception:
        return None


def resolve_release(spec, start_dir, environ):
    """The release and a description of where it came from: `(release or None, source text)`.

    `spec` is the `release` key's value after the usual precedence (it may come from
    SENTRY_RELEASE; the caller applied that):
    - None or `auto`: git HEAD's sha (`git (HEAD at /repo)`), else the first CI variable the SDK
      knows that is set (`env HEROKU_BUILD_COMMIT`), else the package version (see
      `package_version`), else `(None, "none (tried: git at <dir>: none, CI variables: none,
      package version: none)")`.
    - a string with `{sha}`, `{short_sha}`, `{branch}`, `{tag}` or `{version}` (str.format syntax,
      `{{` for a literal brace): filled from git and the package version. Raises
      `ReleaseFormatError` when a placeholder is unknown or can't be filled.
    - anything else: returned as it is, with source `literal`.
    Git is searched from `start_dir` upwards.
    """
    environ = os.environ if environ is None else environ
    text = None if spec is None else str(spec).strip()
    if not text or text == "auto":
        return _auto_release(start_dir, environ)
    fields = _format_fields(text) if "{" in text or "}" in text else []
    if not fields:
        # `{{`/`}}` still mean literal braces, as in any format.
        return text.replace("{{", "{").replace("}}", "}"), "literal"
    return _format_release(text, fields, start_dir)


def package_version(start_dir):
    """The version of the project found above `start_dir`, and where it was read: `(version, source)`.

    The nearest `pyproject.toml` (searched upwards, stopping at a `.git` boundary) gives the
    project's name and, when static, its `[project] version`. With a dynamic version the installed
    distribution of that name is asked through importlib.metadata (one lookup, no scan of every
    distribution). A program started from a console script of an installed package has no
    pyproject.toml above it and gets `(None, "none")`: finding the distribution owning an arbitrary
    file would mean reading every distribution's RECORD, too slow for the hook. Never raises.
    """
    try:
        path = find_pyproject(start_dir)
        if path is None:
            return None, "none"
        name, version = _pyproject_name_version(_read_text(path, CONFIG_LIMIT))
        if version:
            return version, "package version ({})".format(path)
        if name:
            from importlib import metadata

            try:
                return metadata.version(name), "package version (installed {})".format(name)
            except metadata.PackageNotFoundError:
                pass
    except Exception:
        pass
    return None, "none"


def find_pyproject(start_dir):
    """The nearest pyproject.toml at or above `start_dir`, not crossing out of the enclosing git
    checkout; None when there is none. This is the file `package_version` reads."""
    return _find_upwards(start_dir, "pyproject.toml")


# --- resolution ------------------------------------------------------------------------------

def _auto_release(start_dir, environ):
    git = read_git(start_dir)
    if git is not None and git.sha:
        return git.sha, "git (HEAD at {})".format(git.work_tree)
    for name in CI_RELEASE_VARIABLES:
        value = (environ.get(name) or "").strip()
        if value:
            return value, "env {}".format(name)
    version, source = package_version(start_dir)
    if version:
        return version, source
    # What was tried, so `explain release` and the start-up line can say why there is none.
    where = git.work_tree if git is not None else start_dir
    return None, "none (tried: git at {}: {}, CI variables: none, package version: none)".format(
        where, "no commit yet" if git is not None else "none")


def _format_fields(text):
    """The placeholder names used by a format string, in order; [] for text without any."""
    import string  # only formats need it; a few ms on the hook's path otherwise

    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ReleaseFormatError("release {!r}: malformed format ({})".format(text, exc)) from None
    names = []
    for _literal, field, _spec, _conversion in parsed:
        if field is None:
            continue
        import re

        name = re.split(r"[.\[!:]", field, maxsplit=1)[0]
        if name not in FORMAT_FIELDS:
            raise ReleaseFormatError("release {!r}: unknown placeholder {{{}}} (known: {})".format(
                text, field, ", ".join("{" + f + "}" for f in FORMAT_FIELDS)))
        if name not in names:
            names.append(name)
    return names


def _format_release(text, fields, start_dir):
    values = {}  # placeholder name -> text
    sources = []  # descriptions of where the values came from
    git = None
    if {"sha", "short_sha", "branch", "tag"} & set(fields):
        git = read_git(start_dir)
        where = os.path.abspath(start_dir) if start_dir else os.getcwd()
        if git is None:
            raise ReleaseFormatError("release {!r}: {} needs a git checkout, and there is none "
                                     "above {}".format(text, _names(fields, "sha", "short_sha",
                                                                    "branch", "tag"), where))
        if git.sha is None and {"sha", "short_sha", "tag"} & set(fields):
            raise ReleaseFormatError("release {!r}: the repository at {} has no commit yet".format(
                text, git.work_tree))
        if "branch" in fields and git.branch is None:
            raise ReleaseFormatError("release {!r}: {{branch}} can't be filled: HEAD is detached "
                                     "in {}".format(text, git.work_tree))
        if "tag" in fields and git.tag is None:
            raise ReleaseFormatError("release {!r}: {{tag}} can't be filled: no tag points at HEAD "
                                     "({}) in {}".format(text, git.short_sha, git.work_tree))
        values.update(sha=git.sha, short_sha=git.short_sha, branch=git.branch, tag=git.tag)
        sources.append("git (HEAD at {})".format(git.work_tree))
    if "version" in fields:
        version, source = package_version(start_dir)
        if version is None:
            raise ReleaseFormatError("release {!r}: {{version}} can't be filled: no pyproject.toml "
                                     "with a version above {}".format(text, start_dir))
        values["version"] = version
        sources.append(source)
    try:
        release = text.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        raise ReleaseFormatError("release {!r}: can't be formatted ({})".format(text, exc)) from None
    source = "format {!r}".format(text)
    if sources:
        source += " with " + " and ".join(sources)
    return release, source


def _names(fields, *wanted):
    return ", ".join("{" + f + "}" for f in fields if f in wanted)


# --- git files -------------------------------------------------------------------------------

def _find_git_dir(start_dir):
    """(work tree, git dir) of the nearest `.git` directory or `gitdir:` file above start_dir."""
    current = os.path.abspath(start_dir or os.getcwd())
    while True:
        dot_git = os.path.join(current, ".git")
        if os.path.isdir(dot_git):
            if os.path.isfile(os.path.join(dot_git, "HEAD")):
                return current, dot_git
        elif os.path.isfile(dot_git):
            content = _read_text(dot_git).strip()
            if content.startswith("gitdir:"):
                target = os.path.normpath(os.path.join(current, content[len("gitdir:"):].strip()))
                if os.path.isfile(os.path.join(target, "HEAD")):
                    return current, target
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _resolve_ref(git_dir, common_dir, ref):
    """The sha a ref points at (following symbolic refs), or None when it doesn't exist yet."""
    packed = None
    for _ in range(_MAX_SYMREF_DEPTH):
        base = git_dir if ref.startswith(_PER_WORKTREE) else common_dir
        try:
            content = _read_text(os.path.join(base, *ref.split("/"))).strip()
        except OSError:
            content = None
        if content is None:
            if packed is None:
                packed = _packed_refs(common_dir)
            entry = packed.get(ref)
            return entry[0] if entry else None
        if content.startswith("ref:"):
            ref = content[4:].strip()
            continue
        return content if _is_hex_sha(content) else None
    return None


def _packed_refs(common_dir):
    """ref name -> (sha, peeled sha or None) from packed-refs; {} when there is none."""
    refs = {}  # ref name -> (sha, peeled sha or None)
    try:
        text = _read_text(os.path.join(common_dir, "packed-refs"), PACKED_REFS_LIMIT)
    except OSError:
        return refs
    last = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("^"):
            if last is not None:
                refs[last] = (refs[last][0], line[1:].strip())
            continue
        sha, _, name = line.partition(" ")
        last = name.strip()
        refs[last] = (sha, None)
    return refs


def _tag_at(git_dir, common_dir, sha):
    """The highest-sorting tag whose target (peeled) is `sha`, or None."""
    matches = []
    for name, (target, peeled) in _packed_refs(common_dir).items():
        if not name.startswith("refs/tags/"):
            continue
        if (peeled or target) == sha or (peeled is None and _peel(common_dir, target) == sha):
            matches.append(name[len("refs/tags/"):])
    tags_dir = os.path.join(common_dir, "refs", "tags")
    for root, _dirs, files in os.walk(tags_dir):
        for filename in files:
            path = os.path.join(root, filename)
            name = os.path.relpath(path, tags_dir).replace(os.sep, "/")
            try:
                target = _read_text(path).strip()
            except OSError:
                continue
            if target == sha or _peel(common_dir, target) == sha:
                matches.append(name)
    if not matches:
        return None
    return max(set(matches), key=_natural_key)


def _peel(common_dir, target):
    """The commit an annotated tag object points at, when the tag object can be read; else None.

    Reads loose objects, and undeltified objects in pack files. A tag that git stored as a delta
    in a pack is not peeled (rare: after `git gc`, tags are in packed-refs with their peeled line).
    """
    if not _is_hex_sha(target or ""):
        return None
    raw = _loose_object(common_dir, target)
    if raw is None:
        raw = _packed_object(common_dir, target)
    if raw is None or not raw.startswith(b"object "):
        return None
    return raw[7:raw.index(b"\n")].decode("ascii")


def _loose_object(common_dir, sha):
    import zlib

    path = os.path.join(common_dir, "objects", sha[:2], sha[2:])
    try:
        data = zlib.decompressobj().decompress(read_bounded(path, SMALL_LIMIT), SMALL_LIMIT)
    except (OSError, zlib.error):
        return None
    header, _, body = data.partition(b"\0")
    return body if header.startswith(b"tag ") else None


def _packed_object(common_dir, sha):
    """The body of a tag object stored whole (not as a delta) in a version-2 pack, or None."""
    import zlib

    pack_dir = os.path.join(common_dir, "objects", "pack")
    try:
        names = [n for n in os.listdir(pack_dir) if n.endswith(".idx")]
    except OSError:
        return None
    wanted = bytes.fromhex(sha)
    for idx_name in names:
        try:
            offset = _idx_offset(os.path.join(pack_dir, idx_name), wanted)
            if offset is None:
                continue
            fd, _info = open_regular(os.path.join(pack_dir, idx_name[:-4] + ".pack"), _NO_LIMIT)
            with os.fdopen(fd, "rb") as f:
                f.seek(offset)
                head = f.read(32)
                kind = (head[0] >> 4) & 7
                pos = 1
                byte = head[0]
                while byte & 0x80:
                    byte = head[pos]
                    pos += 1
                if kind != 4:  # 4 = tag; deltas (6, 7) are not resolved
                    return None
                f.seek(offset + pos)
                return zlib.decompressobj().decompress(f.read(4096))
        except (OSError, IndexError, ValueError, zlib.error):
            continue
    return None


def _idx_offset(idx_path, wanted):
    data = read_bounded(idx_path, IDX_LIMIT)
    if data[:4] != b"\377tOc" or int.from_bytes(data[4:8], "big") != 2:
        return None
    size = len(wanted)
    fanout = 8
    first = wanted[0]
    lo = int.from_bytes(data[fanout + 4 * (first - 1):fanout + 4 * first], "big") if first else 0
    hi = int.from_bytes(data[fanout + 4 * first:fanout + 4 * (first + 1)], "big")
    count = int.from_bytes(data[fanout + 4 * 255:fanout + 4 * 256], "big")
    names = fanout + 4 * 256
    while lo < hi:
        mid = (lo + hi) // 2
        name = data[names + mid * size:names + (mid + 1) * size]
        if name == wanted:
            crcs = names + count * size
            offsets = crcs + count * 4
            value = int.from_bytes(data[offsets + mid * 4:offsets + mid * 4 + 4], "big")
            if value & 0x80000000:
                large = offsets + count * 4 + (value & 0x7FFFFFFF) * 8
                value = int.from_bytes(data[large:large + 8], "big")
            return value
        if name < wanted:
            lo = mid + 1
        else:
            hi = mid
    return None


def _natural_key(name):
    import re

    # Digits compare by value without int(): a tag may hold more digits than int() converts.
    return [(0, len(part.lstrip("0")), part.lstrip("0")) if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name)]


# --- files -----------------------------------------------------------------------------------

def _read_text(path, limit=SMALL_LIMIT):
    return read_bounded(path, limit).decode("utf-8", "replace")


def _find_upwards(start_dir, filename):
    """The nearest `filename` above start_dir, not crossing out of the enclosing git checkout."""
    current = os.path.abspath(start_dir or os.getcwd())
    while True:
        candidate = os.path.join(current, filename)
        if os.path.isfile(candidate):
            return candidate
        if os.path.exists(os.path.join(current, ".git")):
            return None
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


# `[^\]]*` then strip, not a lazy `[^\]]+?\s*\]`: that one is quadratic on a long unclosed line.
_TOML_SECTION = r"^\s*\[([^\]]*)\]\s*(?:#.*)?$"
_TOML_STRING = r"""^\s*(name|version)\s*=\s*(?:"([^"\\]*)"|'([^']*)')\s*(?:#.*)?$"""


def _pyproject_name_version(text):
    """`[project]` name and static version from pyproject.toml text (a minimal line reader:
    tomllib is 3.11+ only, and these two keys are plain strings in practice)."""
    import re  # not at module level: the hook's start never reads a pyproject.toml

    section = None
    found = {}
    for line in text.splitlines():
        header = re.match(_TOML_SECTION, line)
        if header:
            section = header.group(1).strip()
            continue
        if section == "project":
            m = re.match(_TOML_STRING, line)
            if m:
                found[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
    return found.get("name"), found.get("version")
