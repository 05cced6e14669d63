#!/usr/bin/env python3
"""Generates the git repository bench/version-tag measures: N commits, T annotated release tags, in seconds.

usage: version-tag-repo.py DIR [--commits 100000] [--tags 200] [--seed 1]

One `git fast-import` stream (no `git commit` per commit), deterministic for a given seed:
  - Conventional Commit subjects in a realistic mix: feat, fix, perf, refactor, docs, chore, test, with and
    without a scope (`feat(api): …`), ~10 % non-conventional ones ("Update README.md", "WIP", "Fix typo", …), a
    body on some, rarely a `!` or a `BREAKING CHANGE:` footer; each commit changes one small file;
    author and committer dates only increase.
  - T annotated tags vX.Y.Z spread evenly, the last one ~N/(T+1) commits before the tip (the unreleased
    part). Every tag sits on a `chore(release): X.Y.Z` commit that writes package.json, as a release tool
    does; the versions follow from the commits each release holds (a breaking change bumps the major, a
    feat the minor, anything else the patch), starting at v0.1.0. Releases are patch-only (fixes, no feat)
    about a third of the time; breaking changes are rare and the first lands in the middle release, which
    becomes v1.0.0 (git-cliff's default 0.x rule; `version-tag major` where a 0.x breaking change alone
    would only bump the minor). The unreleased commits hold feats and fixes, no breaking change: next is a minor.
  - package.json `{"name": "bench-app", "version": "<last tag's version>"}` at the tip (the root commit
    creates it, each release commit updates it), checked out in a clean work tree; then `git gc` as a maintained repository would have.
Builds into DIR.tmp-PID and renames it to DIR at the end: DIR exists only when complete (callers cache on it);
DIR/.git/opskit-bench-head holds the tip's hash, so a cache check can tell whether a run moved HEAD.
"""
import argparse, os, random, shutil, subprocess, sys, time

SCOPES = ["api", "cli", "core", "auth", "db", "ui", "config", "deps", "build", "parser", "http", "cache",
          "docs", "release", "deploy", "metrics", "log", "storage"]
VERBS = {
    "feat": ["add", "support", "introduce", "allow", "expose", "implement", "enable", "provide"],
    "fix": ["handle", "correct", "avoid", "prevent", "fix", "guard against", "restore", "repair"],
    "perf": ["speed up", "cache", "avoid copying", "batch", "reduce allocations in", "stream", "parallelize"],
    "refactor": ["extract", "simplify", "rename", "split", "inline", "move", "untangle", "reorganize"],
    "docs": ["document", "explain", "clarify", "add an example for", "fix a typo in", "update the guide on"],
    "chore": ["bump", "update", "pin", "tidy", "regenerate", "drop unused", "format"],
    "test": ["cover", "add tests for", "stabilize the test of", "add a regression test for"],
}
OBJECTS = ["the retry loop", "empty responses", "the config loader", "token refresh", "pagination",
           "the JSON encoder", "timeouts on slow links", "the migration runner", "unicode file names",
           "the health endpoint", "connection pooling", "the --verbose flag", "log rotation", "rate limits",
           "the lock file", "IPv6 addresses", "large uploads", "the progress bar", "cold starts",
           "the S3 client", "signal handling", "the cache key", "dependency versions", "the CI matrix",
           "default settings", "error messages", "the plugin API", "webhook payloads", "TLS certificates",
           "the query builder", "batch imports", "the sidebar", "dark mode", "CSV export", "time zones"]
UNCONVENTIONAL = ["Update README.md", "WIP", "Merge branch 'main' into feature", "Fix typo", "Small cleanups",
                  "Address review comments", "Bump lodash from 4.17.20 to 4.17.21", "Revert previous change",
                  "More tests", "Initial work on sync", "Tweak wording", "oops", "Update dependencies",
                  "Apply suggestions from code review", "Remove debug output", "Formatting"]
AUTHORS = [("Ada Lovelace", "ada@example.com"), ("Linus Pauling", "linus@example.com"),
           ("Grace Hopper", "grace@example.com"), ("Ken Thompson", "ken@example.com"),
           ("Barbara Liskov", "barbara@example.com"), ("Dennis Ritchie", "dmr@example.com"),
           ("Margaret Hamilton", "margaret@example.com"), ("Donald Knuth", "knuth@example.com")]
BODIES = ["The old behaviour surprised users on slow networks.", "Found while profiling the nightly job.",
          "Reported by a user; see the linked issue.", "This keeps the public API unchanged.",
          "Follow-up to the previous change.", "No functional change intended."]
# type weights in a release that has feats; a patch release has none (their share goes to fix)
MIX = [("feat", 22), ("fix", 26), ("perf", 5), ("refactor", 10), ("docs", 9), ("chore", 10), ("test", 8),
       (None, 10)]  # None: a non-conventional subject


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--tags", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.tags < 1 or a.commits < 2 * (a.tags + 1):
        sys.exit("version-tag-repo: need --tags ≥ 1 and --commits ≥ 2 × (tags + 1)")
    if os.path.exists(a.dir):
        sys.exit(f"version-tag-repo: {a.dir} exists; remove it first")
    start = time.monotonic()
    rnd = random.Random(a.seed)
    tmp = f"{a.dir}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    git = lambda *args, **kw: subprocess.run(["git", "-C", tmp, *args], check=True, **kw)
    os.makedirs(tmp)
    git("init", "-q", "-b", "main")
    git("config", "user.name", "Bench"); git("config", "user.email", "bench@example.com")

    n, t = a.commits, a.tags
    # The tagged (release) commit of release k (1-based) is commit index rel_at[k-1]; index 0 is the root.
    rel_at = [(k * n) // (t + 1) - 1 for k in range(1, t + 1)]
    release_of = {}  # commit index -> release number it closes
    for k, i in enumerate(rel_at, 1):
        release_of[i] = k
    # What kind each release is: 'major' (holds a breaking change), 'minor' (feats) or 'patch' (fixes only).
    kinds = ["minor" if rnd.random() < 0.65 else "patch" for _ in range(t)]
    kinds[0] = "minor"  # the first release is v0.1.0
    mid = t // 2
    majors = {mid} | {mid + (j * (t - mid)) // 5 for j in range(1, 5)} if t >= 10 else set()
    for k in majors:
        kinds[k] = "major"
    # Commits of each release (between the previous release commit and this one) and of the unreleased tail.
    spans, prev = [], 0
    for i in rel_at:
        spans.append((prev + 1, i))
        prev = i
    # one or two breaking commits in each 'major' release, at random positions (not on the release commit)
    breaking_at = set()
    for k, (lo, hi) in enumerate(spans):
        if kinds[k] == "major":
            for _ in range(rnd.choice((1, 1, 2))):
                breaking_at.add(rnd.randrange(lo, hi))

    def bump(v, kind):
        ma, mi, pa = v
        if kind == "major": return (ma + 1, 0, 0)
        if kind == "minor": return (ma, mi + 1, 0)
        return (ma, mi, pa + 1)
    versions, v = [], (0, 0, 0)
    for kind in kinds:
        v = bump(v, kind)
        versions.append(v)
    vstr = lambda v: f"{v[0]}.{v[1]}.{v[2]}"

    types = [ty for ty, _ in MIX]
    weights_minor = [w for _, w in MIX]
    weights_patch = [0 if ty == "feat" else w + (MIX[0][1] if ty == "fix" else 0) for ty, w in MIX]

    ts = 1_420_070_400  # 2015-01-01T00:00:00Z
    out = []
    w = out.append

    def data(text):
        b = text.encode()
        w(b"data %d\n" % len(b)); w(b); w(b"\n")

    release = 0  # index into spans of the release the current commit belongs to
    for i in range(n):
        ts += rnd.randint(60, 3000)
        name, email = AUTHORS[rnd.randrange(len(AUTHORS))]
        if i == 0:
            msg = "chore: initial commit\n"
            path, content = "package.json", '{"name": "bench-app", "version": "0.0.0"}\n'
        elif i in release_of:
            k = release_of[i]
            msg = f"chore(release): {vstr(versions[k - 1])}\n"
            path, content = "package.json", f'{{"name": "bench-app", "version": "{vstr(versions[k - 1])}"}}\n'
        else:
            while release < len(spans) and i > spans[release][1]:
                release += 1
            kind = kinds[release] if release < len(spans) else "minor"
            ty = rnd.choices(types, weights_patch if kind == "patch" else weights_minor)[0]
            brk, bang = i in breaking_at, ""
            if brk and ty in (None, "docs", "test", "chore"):
                ty = "feat" if kind != "patch" else "refactor"
            if ty is None:
                subject = rnd.choice(UNCONVENTIONAL)
                scope = rnd.choice(SCOPES)
            else:
                scope = rnd.choice(SCOPES)
                head = f"{ty}({scope})" if rnd.random() < 0.6 else ty
                bang = "!" if brk and rnd.random() < 0.5 else ""
                subject = f"{head}{bang}: {rnd.choice(VERBS[ty])} {rnd.choice(OBJECTS)}"
            msg = subject + "\n"
            if brk and not bang:
                msg += f"\n{rnd.choice(BODIES)}\n\nBREAKING CHANGE: {rnd.choice(OBJECTS)} now behaves differently\n"
            elif rnd.random() < 0.15:
                msg += f"\n{rnd.choice(BODIES)}\n"
            path = f"src/{scope}/{rnd.choice(('main', 'util', 'types', 'io', 'tests'))}.txt"
            content = f"{scope} change {i}\n"
        w(b"commit refs/heads/main\nmark :%d\n" % (i + 1))
        w(f"author {name} <{email}> {ts} +0000\ncommitter {name} <{email}> {ts} +0000\n".encode())
        data(msg)
        if i > 0:
            w(b"from :%d\n" % i)
        w(f"M 100644 inline {path}\n".encode())
        data(content)
        w(b"\n")
        if i in release_of:
            k = release_of[i]
            w(f"tag v{vstr(versions[k - 1])}\nfrom :{i + 1}\ntagger Bench Release <release@example.com> {ts + 30} +0000\n".encode())
            data(f"Release v{vstr(versions[k - 1])}\n")
    stream = b"".join(out)
    git("fast-import", "--quiet", "--done", input=stream + b"done\n")
    git("checkout", "-q", "-f", "main")  # fast-import leaves the work tree empty
    git("gc", "-q")
    head = subprocess.run(["git", "-C", tmp, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout
    with open(os.path.join(tmp, ".git", "opskit-bench-head"), "w") as f:  # lets a cache check see a moved HEAD
        f.write(head)
    os.rename(tmp, a.dir)
    last = versions[-1]
    unreleased = n - 1 - rel_at[-1]
    print(f"generated {a.dir}: {n} commits, {t} tags v0.1.0…v{vstr(last)}, {unreleased} unreleased commits "
          f"(seed {a.seed}) in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main()
