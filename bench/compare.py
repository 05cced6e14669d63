#!/usr/bin/env python3
"""Runs two or more commands alternately (A B A B …) and prints median wall time and peak RSS of each.

Alternating keeps machine drift from favouring one side. RSS comes from wait4(), the kernel's own
count for that child, so nothing extra runs inside the measured process.

usage: compare.py [--any-exit] RUNS NAME=COMMAND [NAME=COMMAND …]     (COMMAND is split like a shell would)
--any-exit: a non-zero exit code is a result, not a broken setup (monitoring tools exit 1/2 on findings);
only 126/127 (cannot run) stop the bench.
"""
import os, shlex, statistics, sys, time

def run_once(argv):
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, rusage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    return elapsed, rusage.ru_maxrss, os.waitstatus_to_exitcode(status)

def main():
    args = sys.argv[1:]
    any_exit = args[:1] == ["--any-exit"]
    if any_exit: args = args[1:]
    runs = int(args[0])
    cmds = [(n, shlex.split(c)) for n, c in (a.split("=", 1) for a in args[1:])]
    broken = (lambda code: code in (126, 127) or code < 0) if any_exit else (lambda code: code != 0)
    for _, argv in cmds:                      # warm caches, check that each works
        for _ in range(5):
            _, _, code = run_once(argv)
        if broken(code):
            sys.exit(f"bench: {shlex.join(argv)} exited {code}; fix the setup before timing it")
    times = {n: [] for n, _ in cmds}
    rss = {n: [] for n, _ in cmds}
    for _ in range(runs):
        for n, argv in cmds:
            t, r, code = run_once(argv)
            if broken(code):
                sys.exit(f"bench: {shlex.join(argv)} exited {code} during the run")
            times[n].append(t)
            rss[n].append(r)
    base = cmds[-1][0]
    base_median = statistics.median(times[base])
    print(f"{'command':<16}{'runs':>6}{'median ms':>11}{'p90 ms':>9}{'min ms':>9}{'peak RSS MiB':>14}{'vs ' + base:>12}")
    for n, _ in cmds:
        ts = sorted(times[n])
        med = statistics.median(ts)
        p90 = ts[int(len(ts) * 0.9) - 1]
        print(f"{n:<16}{len(ts):>6}{med * 1000:>11.2f}{p90 * 1000:>9.2f}{ts[0] * 1000:>9.2f}"
              f"{max(rss[n]) / 1024:>14.1f}{med / base_median:>11.2f}x")

if __name__ == "__main__":
    main()
