#!/usr/bin/env python3
"""Reads the runs bench/deploy recorded and prints the comparison (medians side by side).

    deploy-report.py RUNS_DIR RUNS WATCH

For deploy's runs the phases come from its JSON log (--log-format json: one object per line with
`timestamp` and `message`) and from Docker's events:
  start → healthy  "starting … as <new slot>" → "… is healthy"  (compose up + the health gate)
  watch            "watching …" → "draining and stopping <old slot>"
  drain            "draining and stopping <old slot>" → the old slot's container is removed (docker event
                   `destroy`; deploy logs nothing after it)
  overhead         wall − (start → healthy) − watch − drain: checks, lock, journal, image lookup, the nginx
                   switch (rewrite + nginx -t + reload), pruning, and the process's own start and exit.
"""
import datetime
import json
import statistics
import sys


def iso(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def read_times(path):
    a, b = open(path).read().split()
    return float(a), float(b)


def load(path):
    return json.load(open(path))


def phases(d, i):
    t0, t1 = read_times("%s/ours-%d.time" % (d, i))
    lines = [json.loads(l) for l in open("%s/ours-%d.log" % (d, i)) if l.startswith("{")]

    def at(predicate, what):
        for l in lines:
            if predicate(l["message"]):
                return iso(l["timestamp"]), l["message"]
        sys.exit("deploy-report: no %s line in run %d's log" % (what, i))

    detected, _ = at(lambda m: m.startswith("using "), "`using <compose> …` (--verbose)")
    starting, _ = at(lambda m: m.startswith("starting "), "`starting …`")
    healthy, _ = at(lambda m: m.endswith(")") and " is healthy (" in m, "`… is healthy`")
    watching, _ = at(lambda m: m.startswith("watching "), "`watching …`")
    draining, msg = at(lambda m: m.startswith("draining and stopping "), "`draining and stopping …`")
    old = msg[len("draining and stopping "):].strip()
    drained = None
    for l in open("%s/ours-%d.events" % (d, i)):
        e = json.loads(l)
        attrs = e.get("Actor", {}).get("Attributes", {})
        if attrs.get("com.docker.compose.project") == old and e.get("Action") == "destroy":
            drained = e["timeNano"] / 1e9
    if drained is None:
        sys.exit("deploy-report: no `destroy` event of %s in run %d" % (old, i))
    wall = t1 - t0
    r = {"wall": wall, "start_healthy": healthy - starting, "watch": draining - watching, "drain": drained - draining}
    r["overhead"] = wall - r["start_healthy"] - r["watch"] - r["drain"]
    r["before_start"] = starting - t0
    r["to_detected"] = detected - t0
    r["healthy_to_watch"] = watching - healthy
    r["after_drain"] = t1 - drained
    return r


def main():
    d, runs, watch = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    med = statistics.median
    seed_loads = [load("%s/seed-load-%d.json" % (d, i)) for i in range(1, runs + 1)]
    ours_loads = [load("%s/ours-load-%d.json" % (d, i)) for i in range(1, runs + 1)]
    seed_wall = [(lambda t: t[1] - t[0])(read_times("%s/seed-%d.time" % (d, i))) for i in range(1, runs + 1)]
    ours = [phases(d, i) for i in range(1, runs + 1)]

    def col(values, fmt):
        return fmt % med(values)

    rows = []

    def row(name, seed, mine, ratio=""):
        rows.append((name, seed, mine, ratio))

    sf = [l["failures"] for l in seed_loads]
    of = [l["failures"] for l in ours_loads]
    row("failed requests", col(sf, "%d"), col(of, "%d"), "")
    row("  (every run)", " ".join(str(x) for x in sf), " ".join(str(x) for x in of), "")
    row("requests sent", col([l["requests"] for l in seed_loads], "%d"), col([l["requests"] for l in ours_loads], "%d"))
    row("failure rate", col([100 * l["failure_rate"] for l in seed_loads], "%.2f %%"),
        col([100 * l["failure_rate"] for l in ours_loads], "%.2f %%"))
    row("outage (1st → last failure)", col([l["outage_seconds"] for l in seed_loads], "%.2f s"),
        col([l["outage_seconds"] for l in ours_loads], "%.2f s"))
    sw, ow = med(seed_wall), med([r["wall"] for r in ours])
    row("wall time", "%.2f s" % sw, "%.2f s" % ow, "%.2f× the seed's" % (ow / sw))
    ow_nowatch = med([r["wall"] - r["watch"] for r in ours])
    row("wall time without the watch", "%.2f s" % sw, "%.2f s" % ow_nowatch, "%.2f× the seed's" % (ow_nowatch / sw))
    row("start → healthy (compose up + gate)", "-", col([r["start_healthy"] for r in ours], "%.2f s"))
    row("watch (--watch %s)" % watch, "-", col([r["watch"] for r in ours], "%.2f s"))
    row("drain (stop + remove old slot)", "-", col([r["drain"] for r in ours], "%.2f s"))
    row("overhead = wall − those three", "-", col([r["overhead"] for r in ours], "%.2f s"), "target < 1 s")
    row("  before `starting`", "-", col([r["before_start"] for r in ours], "%.2f s"))
    row("    process start → checks done (engine, disk, files, Compose, config -q: in parallel)", "-", col([r["to_detected"] for r in ours], "%.2f s"))
    row("    → `starting` (lock, journal, image, idle slot)", "-",
        col([r["before_start"] - r["to_detected"] for r in ours], "%.2f s"))
    row("  healthy → watching (nginx rewrite, -t, reload)", "-", col([r["healthy_to_watch"] for r in ours], "%.2f s"))
    row("  after the old slot is gone (journal, prune, exit)", "-", col([r["after_drain"] for r in ours], "%.2f s"))

    errors = {}
    for l in seed_loads:
        for k, v in l["errors"].items():
            errors[k] = errors.get(k, 0) + v
    w = max(len(r[0]) for r in rows)
    print("%-*s  %-18s  %-22s  %s" % (w, "medians of %d runs" % runs, "seed deploy.sh", "deploy (blue-green)", ""))
    for name, a, b, c in rows:
        print("%-*s  %-18s  %-22s  %s" % (w, name, a, b, c))
    print()
    print("seed failures by kind (all runs): %s" % (", ".join("%s ×%d" % kv for kv in sorted(errors.items())) or "none"))
    served = {}
    for l in ours_loads:
        for k, v in l["bodies"].items():
            served[k] = served.get(k, 0) + v
    print("deploy runs: answers by body (all runs): %s" % ", ".join("%s ×%d" % kv for kv in sorted(served.items())))


if __name__ == "__main__":
    main()
