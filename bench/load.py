#!/usr/bin/env python3
"""Load for deploy benchmarks: GET one URL without pause from a few clients, counting every failure.

    load.py URL [--clients 2] [--max-seconds 300] [--max-requests 500000] [--timeout 2] [--json]

Every request is a new TCP connection (no keep-alive, so nothing is retried behind our back); a failure is
any status outside 200-299, a refused or reset connection, or no answer within --timeout. Bounded: it stops
after --max-seconds or --max-requests, or at SIGTERM/SIGINT, and then prints what it saw (one JSON line with
--json). Loopback only: it refuses any other host.
"""
import argparse
import http.client
import json
import signal
import sys
import threading
import time
import urllib.parse


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("url")
    p.add_argument("--clients", type=int, default=2)
    p.add_argument("--max-seconds", type=float, default=300)
    p.add_argument("--max-requests", type=int, default=500_000)
    p.add_argument("--timeout", type=float, default=2)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    u = urllib.parse.urlsplit(a.url)
    loopback = u.hostname in ("localhost", "::1") or (u.hostname or "").startswith("127.")
    if u.scheme != "http" or not loopback:
        sys.exit("load.py: only http:// on loopback (got %s)" % a.url)
    path = (u.path or "/") + ("?" + u.query if u.query else "")

    stop = threading.Event()
    lock = threading.Lock()
    seen = {"requests": 0, "failures": 0, "errors": {}, "bodies": {}, "first_failure": None, "last_failure": None}
    started = time.time()
    deadline = time.monotonic() + a.max_seconds

    def record(body=None, error=None):
        with lock:
            seen["requests"] += 1
            if error is None:
                seen["bodies"][body] = seen["bodies"].get(body, 0) + 1
            else:
                now = time.time()
                seen["failures"] += 1
                seen["errors"][error] = seen["errors"].get(error, 0) + 1
                seen["first_failure"] = seen["first_failure"] or now
                seen["last_failure"] = now
            if seen["requests"] >= a.max_requests or time.monotonic() >= deadline:
                stop.set()

    def client():
        while not stop.is_set():
            conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=a.timeout)
            try:
                conn.request("GET", path, headers={"Connection": "close"})
                r = conn.getresponse()
                body = r.read().decode("utf-8", "replace").strip().split("\n")[0][:40]
                if 200 <= r.status < 300:
                    record(body=body)
                else:
                    record(error="HTTP %d" % r.status)
            except Exception as e:  # refused, reset, timed out: all count
                record(error=type(e).__name__)
            finally:
                conn.close()

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [threading.Thread(target=client, daemon=True) for _ in range(a.clients)]
    for t in threads:
        t.start()
    while not stop.wait(0.1):
        pass
    for t in threads:
        t.join(a.timeout + 1)
    elapsed = time.time() - started
    n, f = seen["requests"], seen["failures"]
    outage = (seen["last_failure"] - seen["first_failure"]) if f else 0.0
    result = {"requests": n, "failures": f, "failure_rate": (f / n if n else 0.0), "seconds": round(elapsed, 3),
              "outage_seconds": round(outage, 3), "errors": seen["errors"], "bodies": seen["bodies"]}
    if a.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print("%d requests in %.1f s, %d failed (%.2f %%)%s" % (n, elapsed, f, 100 * result["failure_rate"],
              ", first to last failure %.2f s: %s" % (outage, seen["errors"]) if f else ""))
        print("answers: %s" % seen["bodies"])


if __name__ == "__main__":
    main()
