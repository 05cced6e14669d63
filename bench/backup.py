#!/usr/bin/env python3
"""The measurements behind bench/backup; run that script (it installs and builds first)."""
import os, random, shutil, statistics, subprocess, sys, tempfile, time, json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "bin")
WORK = os.environ.get("OPSKIT_BENCH_DIR", "/var/tmp/opskit-bench-backup")
runs, big, use_s3 = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3] == "1"

def make_dataset(path, scale=1):
    """Deterministic mixed data: many small files, some large; random and compressible."""
    marker = os.path.join(path, ".complete")
    if os.path.exists(marker):
        return
    shutil.rmtree(path, ignore_errors=True)
    rng = random.Random(42 * scale)
    words = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))) for _ in range(5000)]
    def text(n):
        out, size = [], 0
        while size < n:
            line = f"{size:09d} {rng.choice(['INFO','WARN','DEBUG'])} " + " ".join(rng.choice(words) for _ in range(12)) + "\n"
            out.append(line); size += len(line)
        return "".join(out)[:n].encode()
    block = text(4 << 20)  # reused with offsets so generation stays fast
    def texty(n):
        start = rng.randrange(0, len(block) - 1)
        data = (block[start:] + block) * (n // len(block) + 2)
        return data[:n]
    for s in range(scale):
        base = os.path.join(path, f"set{s}")
        for i in range(20000):
            d = os.path.join(base, "small", f"{i // 500:03d}")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"f{i:05d}.txt"), "wb") as f:
                f.write(texty(rng.randint(1024, 16384)))
        os.makedirs(os.path.join(base, "medium"), exist_ok=True)
        for i in range(200):
            with open(os.path.join(base, "medium", f"m{i:03d}.bin"), "wb") as f:
                f.write(os.urandom(1 << 20) if i % 2 else texty(1 << 20))
        os.makedirs(os.path.join(base, "large"), exist_ok=True)
        for i in range(4):
            with open(os.path.join(base, "large", f"l{i}.dat"), "wb") as f:
                for _ in range(160):
                    f.write(os.urandom(1 << 20) if i < 2 else texty(1 << 20))
    open(marker, "w").close()

def du(path):
    return int(subprocess.check_output(["du", "-sb", path]).split()[0])

def run(cmd, env=None, cwd=None):
    """Runs a shell command; returns (seconds, peak RSS KiB of the largest child).

    `sync` first, untimed: otherwise a step pays for the write-back of the step before it (restic's
    repository, a 1 GiB extraction), and the order of the steps decides the figures."""
    os.sync()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        if cwd: os.chdir(cwd)
        os.execvpe("bash", ["bash", "-c", cmd], {**os.environ, **(env or {})})
    _, status, rusage = os.wait4(pid, 0)
    took = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: `{cmd}` failed")
    return took, rusage.ru_maxrss

def median(xs): return statistics.median(xs)
def mib(n): return n / (1 << 20)

def main():
    os.makedirs(WORK, exist_ok=True)
    data = os.path.join(WORK, "data-1g")
    if not os.path.exists(os.path.join(data, ".complete")):
        print(f"generating the data set in {data} (once)…", file=sys.stderr)
    make_dataset(data)
    size = du(data)
    scratch = tempfile.mkdtemp(prefix="run-", dir=WORK)
    state = os.path.join(scratch, "state")
    os.makedirs(state)
    env = {"OPSKIT_STATE_DIR": state, "RESTIC_PASSWORD": "bench"}
    run(f"tar -cf - -C '{data}' . > /dev/null")  # warm the page cache

    results = {k: [] for k in ["tarzstd", "ours", "restic", "untar", "restore", "untar_shm", "restore_shm"]}
    # The same restores into memory (tmpfs), where the filesystem's own cost (ext4 allocating 20 000 inodes
    # right after the last run deleted as many) no longer hides what each tool costs.
    shm = None
    if os.path.isdir("/dev/shm") and shutil.disk_usage("/dev/shm").free > 3 * size:
        shm = tempfile.mkdtemp(prefix="opskit-bench-", dir="/dev/shm")
    sizes = {}
    rss = {"ours": []}
    for r in range(runs):
        out = os.path.join(scratch, "tar.zst")
        t, _ = run(f"tar -cf - -C '{data}' . | zstd -q -T0 -3 > '{out}'")
        results["tarzstd"].append(t); sizes["tarzstd"] = os.path.getsize(out)

        store = os.path.join(scratch, f"store{r}")
        t, m = run(f"'{BIN}/backup-db' --quiet --source 'dir:{data}' --to '{store}' --keep-last 100", env)
        results["ours"].append(t); rss["ours"].append(m)
        obj = [f for f in os.listdir(store) if f.endswith(".tar.zst")][0]
        sizes["ours"] = os.path.getsize(os.path.join(store, obj))

        repo = os.path.join(scratch, f"restic{r}")
        run(f"restic init --repo '{repo}' -q", env)
        t, _ = run(f"restic backup --repo '{repo}' -q '{data}'", env)
        results["restic"].append(t); sizes["restic"] = du(repo)
        shutil.rmtree(repo)

        backup_id = obj[:-len(".tar.zst")]
        def untar(where, key):
            dest = os.path.join(where, "untar"); os.makedirs(dest)
            t, _ = run(f"zstd -q -d < '{out}' | tar -xf - -C '{dest}'")
            results[key].append(t); shutil.rmtree(dest)
        def restore(where, key):
            dest = os.path.join(where, "restored")
            t, _ = run(f"'{BIN}/restore' '{backup_id}' --from '{store}' --to '{dest}' --quiet", env)
            results[key].append(t); shutil.rmtree(dest)
        # Which goes first alternates: ext4 skips inodes freed in the last 30 s when it allocates new ones
        # (recently_deleted), so a step right after a 20 000-file rmtree pays for it; alternating spreads that.
        pairs = [(untar, "untar"), (restore, "restore")]
        if r % 2: pairs.reverse()
        for step, key in pairs: step(scratch, key)
        if shm:
            for step, key in pairs: step(shm, key + "_shm")
        shutil.rmtree(store)
        os.remove(out)

    def line(name, key, base=None, size_key=None):
        t = median(results[key]); thr = mib(size) / t
        s = f"  {name:<34} {t:7.2f} s  {thr:7.1f} MiB/s"
        if size_key: s += f"  ratio {size / sizes[size_key]:.2f}:1"
        if base: s += f"   = {median(results[base]) / t:.2f}× {base}"
        print(s)

    print(f"\ndata set: {mib(size):.0f} MiB, {runs} runs each, medians (2 cores)")
    print("backup")
    line("tar -cf - | zstd -T0 -3 > FILE", "tarzstd", size_key="tarzstd")
    line("backup-db (zstd 3, local store)", "ours", base="tarzstd", size_key="ours")
    line("restic backup (first, new repo)", "restic", base="tarzstd", size_key="restic")
    print("restore")
    line("zstd -d < FILE | tar -xf -", "untar")
    line("restore ID --to DIR", "restore", base="untar")
    if shm:
        print("restore into tmpfs (/dev/shm: no disk)")
        line("zstd -d < FILE | tar -xf -", "untar_shm")
        line("restore ID --to DIR", "restore_shm", base="untar_shm")
        shutil.rmtree(shm, ignore_errors=True)
    print(f"memory: backup-db peak RSS on {mib(size):.0f} MiB: {median(rss['ours']) / 1024:.1f} MiB")

    if big:
        data4 = os.path.join(WORK, "data-4g")
        print(f"generating the 4 GiB set in {data4} (once)…", file=sys.stderr)
        make_dataset(data4, scale=4)
        store = os.path.join(scratch, "store4")
        t, m = run(f"'{BIN}/backup-db' --quiet --source 'dir:{data4}' --to '{store}' --keep-last 100", env)
        print(f"memory: backup-db peak RSS on {mib(du(data4)):.0f} MiB: {m / 1024:.1f} MiB ({mib(du(data4)) / t:.0f} MiB/s)")
        shutil.rmtree(store)

    if use_s3:
        moto_dir = os.path.join(scratch, "moto")
        os.makedirs(moto_dir)
        out = subprocess.check_output([os.path.join(ROOT, "scripts/services/moto"), "start", moto_dir], text=True)
        kv = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
        try:
            s3env = {**env, "AWS_ACCESS_KEY_ID": kv["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY": kv["AWS_SECRET_ACCESS_KEY"],
                     "AWS_ENDPOINT_URL": kv["S3_ENDPOINT"], "AWS_REGION": kv["AWS_DEFAULT_REGION"],
                     "AWS_DEFAULT_REGION": kv["AWS_DEFAULT_REGION"]}
            run(f"aws --endpoint-url {kv['S3_ENDPOINT']} s3 mb s3://bench", s3env)
            key = os.path.join(scratch, "key")
            run(f"age-keygen -o '{key}' 2>/dev/null")
            recipient = subprocess.check_output(["age-keygen", "-y", key], text=True).strip()
            ours, theirs = [], []
            for r in range(runs):
                t, m = run(f"'{BIN}/backup-db' --quiet --source 'dir:{data}' --to s3://bench/ours{r} "
                           f"--encrypt-to {recipient} --keep-last 100", s3env)
                ours.append((t, m))
                t, _ = run(f"tar -cf - -C '{data}' . | zstd -q -T0 -3 | age -r {recipient} | "
                           f"aws --endpoint-url {kv['S3_ENDPOINT']} s3 cp - s3://bench/theirs{r}.tar.zst.age", s3env)
                theirs.append(t)
            to = median([t for t, _ in ours]); tt = median(theirs)
            print("S3 (moto, signatures checked, encryption on)")
            print(f"  {'tar | zstd | age | aws s3 cp -':<34} {tt:7.2f} s  {mib(size) / tt:7.1f} MiB/s")
            print(f"  {'backup-db --encrypt-to --to s3://':<34} {to:7.2f} s  {mib(size) / to:7.1f} MiB/s   = {tt / to:.2f}× the pipeline"
                  f"   peak RSS {median([m for _, m in ours]) / 1024:.1f} MiB")
        finally:
            subprocess.run([os.path.join(ROOT, "scripts/services/moto"), "stop", moto_dir])
    shutil.rmtree(scratch, ignore_errors=True)

main()
