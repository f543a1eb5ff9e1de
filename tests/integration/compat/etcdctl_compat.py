#!/usr/bin/env python3
"""etcdctl (etcd 3.4, ETCDCTL_API=3) against an etcd-v3-compatible cluster, outputs checked exactly.

usage: etcdctl_compat.py ENDPOINTS [--members N] [--etcdctl PATH]

ENDPOINTS is a comma-separated list of host:port client endpoints. --members is the number of
members the cluster reports (default: the number of endpoints). Every expectation below was taken
from a real etcd 3.4.23 running the same scenario; the script prints the command, the expected and
the actual output of the first step that differs and exits 1. It uses the keys under "~~~ctl/"
(deleted at the start and at the end) and leaves other keys and leases alone.

Covered: put (plain, -w json, --prev-kv), get (single key, range, --prefix, --rev, --keys-only,
--limit, --sort-by/--order, --from-key, --print-value-only, --consistency=s, -w json), del
(single, range --prefix, --prev-kv, missing key), version reset after delete, txn (stdin form and
--interactive, compares on value/version/create/mod incl. missing keys, success and failure
branches, -w json, duplicate-key error), watch (live --prefix --prev-kv -w json, --rev from
history, compacted --rev), compact (plain, --physical, below and beyond the current revision),
lease (grant, keep-alive --once, timetolive [--keys] [-w json], list, revoke, put --lease, errors
for a revoked lease, expiry deleting the lease's keys), member list (simple and -w json), endpoint
status / hashkv / health (each also with --cluster).
"""
import argparse
import base64
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time

from compat_checks import (COMPACTED, DUPLICATE_KEY, FUTURE, LEASE_NOT_FOUND, check, fail,
                           run_steps, wait_until)

ROOT = "~~~ctl/"  # sorts after every other key the tests write (for --from-key)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unb64(s):
    return base64.b64decode(s).decode()


class Result:
    def __init__(self, cmd, rc, out, err, stdin=None):
        self.cmd, self.rc, self.out, self.err, self.stdin = cmd, rc, out, err, stdin

    def show(self):
        text = "command: " + " ".join(self.cmd)
        if self.stdin is not None:
            text += "\nstdin:\n" + self.stdin
        return text + "\nexit code: %s\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out, self.err)


def die_with_parent():
    """In an etcdctl child before exec: SIGKILL when this script dies (no stray watch process
    outlives a killed test)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except Exception:  # noqa: BLE001 - best effort (not Linux)
        pass


class Ctl:
    def __init__(self, binary, endpoints):
        self.binary = binary
        self.endpoints = endpoints
        self.env = dict(os.environ, ETCDCTL_API="3")

    def argv(self, args, endpoints=None):
        eps = ",".join(endpoints or self.endpoints)
        return [self.binary, "--endpoints=" + eps, "--dial-timeout=3s",
                "--command-timeout=8s"] + list(args)

    def run(self, args, stdin=None, endpoints=None, timeout=20):
        cmd = self.argv(args, endpoints)
        try:
            p = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                               timeout=timeout, env=self.env, preexec_fn=die_with_parent)
        except subprocess.TimeoutExpired as e:
            fail("command finishes within %ss" % timeout, "exit", "timeout",
                 Result(cmd, None, e.stdout or "", e.stderr or "", stdin))
        return Result(cmd, p.returncode, p.stdout, p.stderr, stdin)

    def ok(self, args, stdin=None, endpoints=None):
        r = self.run(args, stdin, endpoints)
        check("exit code of a command that must succeed", 0, r.rc, r)
        return r

    def expect(self, args, expected, stdin=None, endpoints=None):
        r = self.ok(args, stdin, endpoints)
        check("stdout", expected, r.out, r)
        return r

    def json(self, args, stdin=None, endpoints=None):
        r = self.ok(list(args) + ["-w", "json"], stdin, endpoints)
        try:
            return json.loads(r.out), r
        except ValueError:
            fail("stdout is JSON", "JSON", r.out, r)

    def error(self, args, rc, message, code=None, stdin=None):
        """A command that fails: exit code, last stderr line "Error: ...", and the gRPC code and
        message the client library logged for the failed call."""
        r = self.run(args, stdin)
        check("exit code of a failing command", rc, r.rc, r)
        lines = [l for l in r.err.splitlines() if l.strip()]
        check("last stderr line", "Error: " + message, lines[-1] if lines else "", r)
        if code is not None:
            want = "code = %s desc = %s" % (code, message.split("(")[-1].rstrip(")"))
            if want not in r.err:
                fail("gRPC status in stderr", want, r.err, r)
        return r


def kv(key, create, mod, version, value, lease=0):
    return {"key": key, "create_revision": create, "mod_revision": mod, "version": version,
            "value": value, "lease": lease}


def norm_kv(d):
    """A KeyValue from etcdctl's JSON (base64 bytes, zero fields omitted) as a full dict."""
    if d is None:
        return None
    return {"key": unb64(d.get("key", "")), "create_revision": d.get("create_revision", 0),
            "mod_revision": d.get("mod_revision", 0), "version": d.get("version", 0),
            "value": unb64(d.get("value", "")), "lease": d.get("lease", 0)}


def norm_event(e):
    return {"type": {0: "PUT", 1: "DELETE"}[e.get("type", 0)], "kv": norm_kv(e.get("kv")),
            "prev_kv": norm_kv(e.get("prev_kv"))}


def ev(typ, kv_, prev=None):
    return {"type": typ, "kv": kv_, "prev_kv": prev}


def deleted(key, rev):
    return kv(key, 0, rev, 0, "")


class Stream:
    """A long-running etcdctl (watch) whose stdout and stderr lines are read with deadlines."""

    def __init__(self, ctl, args):
        self.cmd = ctl.argv(args)
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=ctl.env, preexec_fn=die_with_parent)
        self.lines = queue.Queue()
        self.out = []
        self.err = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out, True),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err, False),
                         daemon=True).start()

    def _pump(self, pipe, store, to_queue):
        for line in pipe:
            store.append(line)
            if to_queue:
                self.lines.put(line)

    def next_line(self, deadline):
        try:
            return self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def result(self):
        return Result(self.cmd, self.proc.poll(), "".join(self.out), "".join(self.err))


def header_rev(ctl):
    data, _ = ctl.json(["get", ROOT + "none"])
    return data["header"].get("revision", 0)


def get_kvs(ctl, args):
    data, r = ctl.json(["get"] + list(args))
    return [norm_kv(k) for k in data.get("kvs", [])], data, r


# ---------------------------------------------------------------------------------------------
def test_kv(ctl):
    k = lambda s: ROOT + "kv/" + s  # noqa: E731
    r0 = header_rev(ctl)
    ctl.expect(["put", k("a"), "1"], "OK\n")                                 # r0+1
    ctl.expect(["put", k("b"), "bee"], "OK\n")                               # r0+2
    ctl.expect(["put", k("c"), "sea"], "OK\n")                               # r0+3
    ctl.expect(["put", "--prev-kv", k("a"), "2"], "OK\n%s\n1\n" % k("a"))     # r0+4
    data, r = ctl.json(["put", k("d"), "dee"])                               # r0+5
    check("put -w json: header.revision", r0 + 5, data["header"]["revision"], r)
    check("put -w json: no prev_kv", None, data.get("prev_kv"), r)
    ctl.expect(["put", "--prev-kv", k("b"), "bee2"], "OK\n%s\nbee\n" % k("b"))  # r0+6
    ctl.expect(["put", "--prev-kv", k("new"), "n"], "OK\n")                  # r0+7 (no prev)
    ctl.expect(["del", k("new")], "1\n")                                     # r0+8

    kvs, data, r = get_kvs(ctl, [k("a")])
    check("get -w json kvs", [kv(k("a"), r0 + 1, r0 + 4, 2, "2")], kvs, r)
    check("get -w json count", 1, data.get("count"), r)
    check("get -w json more", None, data.get("more"), r)
    check("get -w json header.revision", r0 + 8, data["header"]["revision"], r)
    ctl.expect(["get", k("a")], "%s\n2\n" % k("a"))
    ctl.expect(["get", k("missing")], "")
    data, r = ctl.json(["get", k("missing")])
    check("get missing key -w json: no kvs, no count", (None, None),
          (data.get("kvs"), data.get("count")), r)

    everything = "%s\n2\n%s\nbee2\n%s\nsea\n%s\ndee\n" % (k("a"), k("b"), k("c"), k("d"))
    ctl.expect(["get", "--prefix", ROOT + "kv/"], everything)
    ctl.expect(["get", k("a"), k("c")], "%s\n2\n%s\nbee2\n" % (k("a"), k("b")))
    # History.
    ctl.expect(["get", "--rev=%d" % (r0 + 1), k("a")], "%s\n1\n" % k("a"))
    ctl.expect(["get", "--rev=%d" % (r0 + 3), k("a")], "%s\n1\n" % k("a"))
    ctl.expect(["get", "--rev=%d" % (r0 + 4), k("a")], "%s\n2\n" % k("a"))
    ctl.expect(["get", "--rev=%d" % (r0 + 2), "--prefix", ROOT + "kv/"],
               "%s\n1\n%s\nbee\n" % (k("a"), k("b")))
    ctl.expect(["get", "--rev=%d" % (r0 + 7), k("new")], "%s\nn\n" % k("new"))
    ctl.expect(["get", "--rev=%d" % (r0 + 8), k("new")], "")
    kvs, data, r = get_kvs(ctl, ["--rev=%d" % (r0 + 5), "--prefix", ROOT + "kv/"])
    check("get --rev -w json kvs",
          [kv(k("a"), r0 + 1, r0 + 4, 2, "2"), kv(k("b"), r0 + 2, r0 + 2, 1, "bee"),
           kv(k("c"), r0 + 3, r0 + 3, 1, "sea"), kv(k("d"), r0 + 5, r0 + 5, 1, "dee")], kvs, r)
    check("get --rev -w json header.revision is the current one", r0 + 8,
          data["header"]["revision"], r)
    ctl.error(["get", "--rev=%d" % (r0 + 1000), k("a")], 1, FUTURE, "OutOfRange")
    # Shapes of the answer.
    ctl.expect(["get", "--prefix", "--keys-only", ROOT + "kv/"],
               "".join("%s\n\n" % k(x) for x in "abcd"))
    kvs, data, r = get_kvs(ctl, ["--prefix", "--keys-only", ROOT + "kv/"])
    check("get --keys-only -w json has no values",
          [kv(k("a"), r0 + 1, r0 + 4, 2, ""), kv(k("b"), r0 + 2, r0 + 6, 2, ""),
           kv(k("c"), r0 + 3, r0 + 3, 1, ""), kv(k("d"), r0 + 5, r0 + 5, 1, "")], kvs, r)
    kvs, data, r = get_kvs(ctl, ["--prefix", "--limit=2", ROOT + "kv/"])
    check("get --limit=2 -w json kvs",
          [kv(k("a"), r0 + 1, r0 + 4, 2, "2"), kv(k("b"), r0 + 2, r0 + 6, 2, "bee2")], kvs, r)
    check("get --limit=2 -w json count/more", (4, True), (data.get("count"), data.get("more")), r)
    ctl.expect(["get", "--prefix", "--limit=2", ROOT + "kv/"],
               "%s\n2\n%s\nbee2\n" % (k("a"), k("b")))
    ctl.expect(["get", "--prefix", "--sort-by=MODIFY", "--order=DESCEND", ROOT + "kv/"],
               "%s\nbee2\n%s\ndee\n%s\n2\n%s\nsea\n" % (k("b"), k("d"), k("a"), k("c")))
    ctl.expect(["get", "--prefix", "--sort-by=CREATE", "--order=DESCEND", ROOT + "kv/"],
               "%s\ndee\n%s\nsea\n%s\nbee2\n%s\n2\n" % (k("d"), k("c"), k("b"), k("a")))
    ctl.expect(["get", "--prefix", "--sort-by=VALUE", "--order=ASCEND", ROOT + "kv/"],
               "%s\n2\n%s\nbee2\n%s\ndee\n%s\nsea\n" % (k("a"), k("b"), k("d"), k("c")))
    ctl.expect(["get", "--prefix", "--sort-by=KEY", "--order=DESCEND", "--limit=3",
                ROOT + "kv/"], "%s\ndee\n%s\nsea\n%s\nbee2\n" % (k("d"), k("c"), k("b")))
    ctl.expect(["get", "--prefix", "--sort-by=MODIFY", "--order=ASCEND", "--limit=1",
                ROOT + "kv/"], "%s\nsea\n" % k("c"))
    ctl.expect(["get", "--from-key", k("c")], "%s\nsea\n%s\ndee\n" % (k("c"), k("d")))
    ctl.expect(["get", "--from-key", "--keys-only", k("b")],
               "%s\n\n%s\n\n%s\n\n" % (k("b"), k("c"), k("d")))
    ctl.expect(["get", "--print-value-only", k("c")], "sea\n")
    ctl.expect(["get", "--print-value-only", "--prefix", ROOT + "kv/"], "2\nbee2\nsea\ndee\n")
    # Serializable reads from every member see the write (eventually, on followers).
    for ep in ctl.endpoints:
        def serial(ep=ep):
            r = ctl.run(["get", "--consistency=s", k("d")], endpoints=[ep])
            return r.rc == 0 and r.out == "%s\ndee\n" % k("d"), r.out + r.err
        wait_until("get --consistency=s from " + ep, serial, 10, "%s\ndee\n" % k("d"))

    # Deletes.
    ctl.expect(["del", k("a")], "1\n")                                       # r0+9
    ctl.expect(["del", k("a")], "0\n")
    ctl.expect(["del", "--prev-kv", k("b")], "1\n%s\nbee2\n" % k("b"))        # r0+10
    data, r = ctl.json(["del", "--prev-kv", "--prefix", ROOT + "kv/"])       # r0+11
    check("del --prefix --prev-kv -w json deleted", 2, data.get("deleted"), r)
    check("del --prefix --prev-kv -w json prev_kvs",
          [kv(k("c"), r0 + 3, r0 + 3, 1, "sea"), kv(k("d"), r0 + 5, r0 + 5, 1, "dee")],
          [norm_kv(x) for x in data.get("prev_kvs", [])], r)
    check("del -w json header.revision", r0 + 11, data["header"]["revision"], r)
    ctl.expect(["get", "--prefix", ROOT + "kv/"], "")
    ctl.expect(["del", "--prefix", ROOT + "kv/"], "0\n")
    ctl.expect(["get", "--rev=%d" % (r0 + 10), "--prefix", "--keys-only", ROOT + "kv/"],
               "%s\n\n%s\n\n" % (k("c"), k("d")))
    # A re-created key starts a new life: version 1, new create_revision.
    ctl.expect(["put", k("a"), "again"], "OK\n")                             # r0+12
    kvs, data, r = get_kvs(ctl, [k("a")])
    check("re-created key", [kv(k("a"), r0 + 12, r0 + 12, 1, "again")], kvs, r)
    ctl.expect(["put", k("b"), "x"], "OK\n")                                 # r0+13
    ctl.expect(["put", k("c"), "x"], "OK\n")                                 # r0+14
    ctl.expect(["del", k("a"), k("c")], "2\n")                               # r0+15
    ctl.expect(["get", "--prefix", "--keys-only", ROOT + "kv/"], "%s\n\n" % k("c"))
    check("revision after the KV steps", r0 + 15, header_rev(ctl))


def test_txn(ctl):
    k = lambda s: ROOT + "tx/" + s  # noqa: E731
    ctl.expect(["put", k("k"), "v1"], "OK\n")
    ra = header_rev(ctl)
    ctl.expect(["put", k("k"), "v2"], "OK\n")
    rb = ra + 1
    # All four compare targets true: the success branch runs.
    stdin = ('value("{k}") = "v2"\nversion("{k}") = "2"\ncreate("{k}") = "{ra}"\n'
             'mod("{k}") = "{rb}"\nmod("{k}") > "{ra}"\nversion("{k}") < "3"\n'
             'value("{k}") != "v1"\ncreate("{miss}") = "0"\nversion("{miss}") = "0"\n\n'
             'put {k} v3\nget {k}\n\nput {f} yes\n\n').format(k=k("k"), miss=k("missing"),
                                                            f=k("failed"), ra=ra, rb=rb)
    ctl.expect(["txn"], "SUCCESS\n\nOK\n\n%s\nv3\n" % k("k"), stdin=stdin)   # rb+1
    ctl.expect(["get", "--prefix", ROOT + "tx/"], "%s\nv3\n" % k("k"))
    # A false compare: the failure branch runs (put, get, del of a missing key).
    stdin = ('value("{k}") = "v3"\nmod("{k}") < "{rb}"\n\nput {k} nope\n\n'
             'put {f} yes\nget {k}\ndel {miss}\n\n').format(k=k("k"), f=k("failed"),
                                                           miss=k("missing"), rb=rb)
    ctl.expect(["txn"], "FAILURE\n\nOK\n\n%s\nv3\n\n0\n" % k("k"), stdin=stdin)  # rb+2
    ctl.expect(["get", k("failed")], "%s\nyes\n" % k("failed"))
    # etcd: a value compare against a missing key is false whatever the operator.
    stdin = 'value("{m}") != "x"\n\nput {s} 1\n\nput {f} 2\n\n'.format(
        m=k("missing"), s=k("s"), f=k("f"))
    ctl.expect(["txn"], "FAILURE\n\nOK\n", stdin=stdin)                       # rb+3
    ctl.expect(["get", "--keys-only", k("f"), k("t")],
               "%s\n\n%s\n\n%s\n\n" % (k("f"), k("failed"), k("k")))
    # The same as above with -w json: succeeded omitted when false; sub-response revision.
    data, r = ctl.json(["txn"], stdin=stdin)                                 # rb+4
    check("txn -w json succeeded", None, data.get("succeeded"), r)
    check("txn -w json header.revision", rb + 4, data["header"]["revision"], r)
    check("txn -w json response kinds", [["ResponsePut"]],
          [list(x["Response"].keys()) for x in data.get("responses", [])], r)
    check("txn -w json put sub-response revision", rb + 4,
          data["responses"][0]["Response"]["ResponsePut"]["header"]["revision"], r)
    # --interactive: prompts on stdout, then the result; del --prev-kv and get --prefix inside.
    stdin = ('version("{k}") = "3"\n\ndel --prev-kv {k}\nget --prefix {p}\n\n\n').format(
        k=k("k"), p=ROOT + "tx/")
    ctl.expect(["txn", "--interactive"],
               "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n"
               "SUCCESS\n\n1\n%s\nv3\n\n%s\n2\n%s\nyes\n" % (k("k"), k("f"), k("failed")),
               stdin=stdin)                                                  # rb+5
    check("revision after the txns", rb + 5, header_rev(ctl))
    # A read-only txn does not bump the revision.
    ctl.expect(["txn"], "SUCCESS\n\n%s\n2\n" % k("f"),
               stdin='create("%s") > "0"\n\nget %s\n\n\n' % (k("f"), k("f")))
    check("revision after a read-only txn", rb + 5, header_rev(ctl))
    # The same key twice among the puts/deletes of one branch: etcd refuses the txn.
    ctl.error(["txn"], 1, DUPLICATE_KEY, "InvalidArgument",
              stdin='\nput %s 1\ndel %s\n\n\n' % (k("f"), k("f")))
    ctl.expect(["del", "--prefix", ROOT + "tx/"], "2\n")


def read_events(stream, want, step, timeout=10):
    """JSON watch responses from `stream` until `want` events arrived (or the deadline)."""
    deadline = time.monotonic() + timeout
    events = []
    while len(events) < want:
        line = stream.next_line(deadline)
        if line is None:
            fail(step + ": %d events within %ss" % (want, timeout), want, events,
                 stream.result())
        resp = json.loads(line)
        check(step + ": response not canceled", False, resp.get("Canceled"), stream.result())
        events += [norm_event(e) for e in resp.get("Events") or []]
    return events


def no_more_events(stream, step, wait=0.3):
    line = stream.next_line(time.monotonic() + wait)
    check(step + ": no further watch output", None, line, stream.result())


def test_watch(ctl):
    k = lambda s: ROOT + "w/" + s  # noqa: E731
    live = Stream(ctl, ["watch", "--prefix", "--prev-kv", "-w", "json", ROOT + "w/"])
    try:
        # etcdctl prints nothing when the watch is created: write a marker until it shows up.
        n = 0
        deadline = time.monotonic() + 10
        seen = None
        while seen is None:
            n += 1
            ctl.expect(["put", k("ready"), str(n)], "OK\n")
            line = live.next_line(time.monotonic() + 0.3)
            if line is not None:
                seen = json.loads(line)
            elif time.monotonic() > deadline:
                fail("live watch delivers the marker put", "an event", None, live.result())
        last = seen
        while norm_event(last["Events"][-1])["kv"]["value"] != str(n):
            line = live.next_line(time.monotonic() + 5)
            if line is None:
                fail("live watch delivers marker %d" % n, "an event", None, live.result())
            last = json.loads(line)
        r_ready = norm_event(last["Events"][-1])["kv"]["mod_revision"]
        c_ready = norm_event(last["Events"][-1])["kv"]["create_revision"]

        w = r_ready
        ctl.expect(["put", k("a"), "1"], "OK\n")      # w+1
        ctl.expect(["put", k("a"), "2"], "OK\n")      # w+2
        ctl.expect(["put", k("b"), "x"], "OK\n")      # w+3
        ctl.expect(["del", k("a")], "1\n")            # w+4
        ctl.expect(["txn"], "SUCCESS\n\nOK\n\nOK\n",  # w+5: two events, one revision
                   stdin="\nput %s c\nput %s d\n\n\n" % (k("c"), k("d")))
        ctl.expect(["put", ROOT + "wx", "outside"], "OK\n")  # w+6: not under the prefix
        ctl.expect(["del", "--prefix", ROOT + "w/"], "4\n")  # w+7: four events, one revision
        ctl.expect(["del", ROOT + "wx"], "1\n")              # w+8
        expected = [
            ev("PUT", kv(k("a"), w + 1, w + 1, 1, "1")),
            ev("PUT", kv(k("a"), w + 1, w + 2, 2, "2"), kv(k("a"), w + 1, w + 1, 1, "1")),
            ev("PUT", kv(k("b"), w + 3, w + 3, 1, "x")),
            ev("DELETE", deleted(k("a"), w + 4), kv(k("a"), w + 1, w + 2, 2, "2")),
            ev("PUT", kv(k("c"), w + 5, w + 5, 1, "c")),
            ev("PUT", kv(k("d"), w + 5, w + 5, 1, "d")),
            ev("DELETE", deleted(k("b"), w + 7), kv(k("b"), w + 3, w + 3, 1, "x")),
            ev("DELETE", deleted(k("c"), w + 7), kv(k("c"), w + 5, w + 5, 1, "c")),
            ev("DELETE", deleted(k("d"), w + 7), kv(k("d"), w + 5, w + 5, 1, "d")),
            ev("DELETE", deleted(k("ready"), w + 7),
               kv(k("ready"), c_ready, r_ready, n, str(n))),
        ]
        got = read_events(live, len(expected), "watch --prefix --prev-kv (live)")
        check("watch --prefix --prev-kv (live) events", expected, got, live.result())
        no_more_events(live, "watch --prefix --prev-kv (live)")
    finally:
        live.stop()

    # From history: the same events again, from a revision in the past.
    hist = Stream(ctl, ["watch", "--prefix", "--prev-kv", "--rev=%d" % (w + 1), "-w", "json",
                        ROOT + "w/"])
    try:
        got = read_events(hist, len(expected), "watch --rev (history)")
        check("watch --rev --prefix --prev-kv (history) events", expected, got, hist.result())
        no_more_events(hist, "watch --rev (history)")
    finally:
        hist.stop()
    # Simple output format, one key, from history.
    hist = Stream(ctl, ["watch", "--rev=%d" % (w + 2), k("a")])
    try:
        want = "PUT\n%s\n2\nDELETE\n%s\n\n" % (k("a"), k("a"))
        deadline = time.monotonic() + 10
        got = ""
        while len(got) < len(want):
            line = hist.next_line(deadline)
            if line is None:
                break
            got += line
        check("watch --rev KEY (simple output)", want, got, hist.result())
        no_more_events(hist, "watch --rev KEY (simple output)")
    finally:
        hist.stop()
    return w


def test_compact(ctl, watch_rev):
    k = ROOT + "cp/k"
    ctl.expect(["put", k, "1"], "OK\n")
    c1 = header_rev(ctl)
    ctl.expect(["put", k, "2"], "OK\n")
    ctl.expect(["put", k, "3"], "OK\n")
    c2, c3 = c1 + 1, c1 + 2
    ctl.expect(["compact", str(c2)], "compacted revision %d\n" % c2)
    ctl.error(["get", "--rev=%d" % c1, k], 1, COMPACTED, "OutOfRange")
    ctl.expect(["get", "--rev=%d" % c2, k], "%s\n2\n" % k)   # the compact revision stays
    ctl.expect(["get", k], "%s\n3\n" % k)
    ctl.error(["compact", str(c1)], 1, COMPACTED, "OutOfRange")
    ctl.error(["compact", str(c3 + 100)], 1, FUTURE, "OutOfRange")
    # A watch from a compacted revision is canceled by the server, on every member. (The
    # linearizable get first makes sure that member has applied the compaction: a member that
    # has not yet would, like etcd, still serve the old history.)
    for ep in ctl.endpoints:
        ctl.expect(["get", k], "%s\n3\n" % k, endpoints=[ep])
        r = ctl.run(["watch", "--rev=%d" % watch_rev, ROOT + "w/a"], endpoints=[ep], timeout=10)
        check("watch from a compacted revision via %s: exit code" % ep, 5, r.rc, r)
        check("watch from a compacted revision via %s: stdout" % ep, "", r.out, r)
        check("watch from a compacted revision via %s: stderr" % ep,
              "watch was canceled (%s)\nError: watch is canceled by the server\n" % COMPACTED,
              r.err, r)
    ctl.expect(["compact", "--physical", str(c3)], "compacted revision %d\n" % c3)
    ctl.error(["get", "--rev=%d" % c2, k], 1, COMPACTED, "OutOfRange")
    ctl.expect(["get", "--rev=%d" % c3, k], "%s\n3\n" % k)
    ctl.expect(["del", k], "1\n")
    return c3


LEASE_RE = re.compile(r"^lease ([0-9a-f]+) granted with TTL\((\d+)s\)\n$")


def lease_ids(ctl):
    r = ctl.ok(["lease", "list"])
    lines = r.out.splitlines()
    m = re.match(r"^found (\d+) leases$", lines[0] if lines else "")
    if not m or int(m.group(1)) != len(lines) - 1:
        fail("lease list format", "found N leases + N ids", r.out, r)
    for line in lines[1:]:
        if not re.match(r"^[0-9a-f]+$", line):
            fail("lease list id format", "hex id", line, r)
    data, r2 = ctl.json(["lease", "list"])
    ids = sorted(x["id"] for x in data.get("leases") or [])
    check("lease list -w json ids = simple output ids", sorted(int(x, 16) for x in lines[1:]),
          ids, r2)
    return set(ids)


def grant(ctl, ttl):
    r = ctl.ok(["lease", "grant", str(ttl)])
    m = LEASE_RE.match(r.out)
    if not m:
        fail("lease grant output", "lease <hex> granted with TTL(%ds)" % ttl, r.out, r)
    check("lease grant TTL", str(ttl), m.group(2), r)
    return m.group(1)


def test_lease(ctl):
    k = lambda s: ROOT + "ls/" + s  # noqa: E731
    before = lease_ids(ctl)
    lid = grant(ctl, 10)
    check("lease list after grant", before | {int(lid, 16)}, lease_ids(ctl))
    ctl.expect(["put", "--lease=" + lid, k("k1"), "v1"], "OK\n")
    ctl.expect(["put", "--lease=" + lid, k("k2"), "v2"], "OK\n")
    ctl.expect(["put", k("plain"), "p"], "OK\n")
    kvs, _, r = get_kvs(ctl, [k("k1")])
    check("get -w json: the key's lease", int(lid, 16), kvs[0]["lease"] if kvs else None, r)
    ctl.expect(["lease", "keep-alive", "--once", lid], "lease %s keepalived with TTL(10)\n" % lid)
    r = ctl.ok(["lease", "timetolive", lid])
    m = re.match(r"^lease %s granted with TTL\(10s\), remaining\((\d+)s\)\n$" % lid, r.out)
    if not m or not 8 <= int(m.group(1)) <= 10:
        fail("lease timetolive", "lease %s granted with TTL(10s), remaining(8..10s)" % lid,
             r.out, r)
    r = ctl.ok(["lease", "timetolive", "--keys", lid])
    m = re.match(r"^lease %s granted with TTL\(10s\), remaining\((\d+)s\), attached keys\(\[(.*)\]\)\n$"
                 % lid, r.out)
    if not m or not 8 <= int(m.group(1)) <= 10 or sorted(m.group(2).split(" ")) != [k("k1"), k("k2")]:
        fail("lease timetolive --keys",
             "lease %s granted with TTL(10s), remaining(8..10s), attached keys([%s %s])"
             % (lid, k("k1"), k("k2")), r.out, r)
    data, r = ctl.json(["lease", "timetolive", "--keys", lid])
    check("lease timetolive --keys -w json id/granted-ttl/keys",
          (int(lid, 16), 10, sorted([b64(k("k1")), b64(k("k2"))])),
          (data.get("id"), data.get("granted-ttl"), sorted(data.get("keys") or [])), r)
    if not 8 <= data.get("ttl", -100) <= 10:
        fail("lease timetolive -w json ttl", "8..10", data.get("ttl"), r)
    ctl.expect(["lease", "revoke", lid], "lease %s revoked\n" % lid)
    ctl.expect(["get", "--prefix", ROOT + "ls/"], "%s\np\n" % k("plain"))
    ctl.expect(["lease", "timetolive", lid], "lease %s already expired\n" % lid)
    data, r = ctl.json(["lease", "timetolive", "--keys", lid])
    check("lease timetolive -w json of a revoked lease (ttl, granted-ttl, keys)",
          (-1, 0, None), (data.get("ttl"), data.get("granted-ttl"), data.get("keys")), r)
    check("lease list after revoke", before, lease_ids(ctl))
    ctl.error(["lease", "revoke", lid], 1,
              "failed to revoke lease (%s)" % LEASE_NOT_FOUND, "NotFound")
    # KeepAlive answers TTL 0 for an unknown lease; the client turns it into this error.
    ctl.error(["lease", "keep-alive", "--once", lid], 2, LEASE_NOT_FOUND)
    ctl.error(["put", "--lease=" + lid, k("k3"), "v"], 1, LEASE_NOT_FOUND, "NotFound")
    ctl.expect(["get", "--prefix", "--keys-only", ROOT + "ls/"], "%s\n\n" % k("plain"))

    # Expiry: a 3 s lease that nobody keeps alive takes its key with it.
    lid = grant(ctl, 3)
    t0 = time.monotonic()
    ctl.expect(["put", "--lease=" + lid, k("exp"), "e"], "OK\n")
    ctl.expect(["get", k("exp")], "%s\ne\n" % k("exp"))

    def gone():
        r = ctl.run(["get", k("exp")])
        return r.rc == 0 and r.out == "", r.out + r.err
    wait_until("key of an expiring 3 s lease is deleted", gone, 15, "")
    elapsed = time.monotonic() - t0
    if elapsed < 2.0:
        fail("lease expiry not before its TTL", ">= 2.0 s after grant", "%.2f s" % elapsed)
    ctl.expect(["lease", "timetolive", lid], "lease %s already expired\n" % lid)
    check("lease list after expiry", before, lease_ids(ctl))
    ctl.expect(["del", "--prefix", ROOT + "ls/"], "1\n")


def member_urls(m):
    return [u.split("://", 1)[-1] for u in m.get("clientURLs") or []]


def test_cluster(ctl, members, compact_rev):
    data, r = ctl.json(["member", "list"])
    ms = data.get("members") or []
    check("member list -w json: member count", members, len(ms), r)
    cluster_id = data["header"].get("cluster_id")
    if not cluster_id:
        fail("member list -w json: header.cluster_id", "non-zero", cluster_id, r)
    for m in ms:
        if not (m.get("ID") and m.get("name") and m.get("peerURLs") and m.get("clientURLs")):
            fail("member list -w json: ID, name, peerURLs, clientURLs set", "all set", m, r)
    check("member list -w json: distinct IDs", len(ms), len({m["ID"] for m in ms}), r)
    by_endpoint = {}
    for m in ms:
        for u in member_urls(m):
            by_endpoint[u] = m["ID"]
    for ep in ctl.endpoints:
        if ep not in by_endpoint:
            fail("member list: a member serves client endpoint " + ep, ep, sorted(by_endpoint), r)
    if members == len(ctl.endpoints):
        check("member list: the client URLs are the endpoints", sorted(ctl.endpoints),
              sorted(by_endpoint), r)
    r = ctl.ok(["member", "list"])
    want = sorted("%x, started, %s, %s, %s, false" % (m["ID"], m["name"], ",".join(m["peerURLs"]),
                                                      ",".join(m["clientURLs"])) for m in ms)
    check("member list (simple)", want, sorted(r.out.splitlines()), r)

    # endpoint status: one leader, one term, and every member at the same revision (eventually).
    def status_agree():
        data, r = ctl.json(["endpoint", "status"])
        got = {s["Endpoint"]: s["Status"] for s in data}
        problems = []
        if sorted(got) != sorted(ctl.endpoints):
            problems.append("endpoints %s" % sorted(got))
        for ep, s in got.items():
            h = s["header"]
            if h.get("cluster_id") != cluster_id:
                problems.append("%s cluster_id %s" % (ep, h.get("cluster_id")))
            if h.get("member_id") != by_endpoint.get(ep):
                problems.append("%s member_id %s" % (ep, h.get("member_id")))
            if not s.get("version") or not s.get("dbSize") or not s.get("raftIndex"):
                problems.append("%s version/dbSize/raftIndex %r/%r/%r" % (
                    ep, s.get("version"), s.get("dbSize"), s.get("raftIndex")))
            if s.get("leader") not in {m["ID"] for m in ms}:
                problems.append("%s leader %s not a member" % (ep, s.get("leader")))
        for field in ("leader", "raftTerm"):
            if len({s.get(field) for s in got.values()}) != 1:
                problems.append("%s differs: %s" % (field, [s.get(field) for s in got.values()]))
        if len({s["header"].get("revision") for s in got.values()}) != 1:
            problems.append("revisions differ")
        return not problems, (problems, r.out)
    wait_until("endpoint status -w json", status_agree, 10, "no problems")
    r = ctl.ok(["endpoint", "status"])
    check("endpoint status (simple): one line per endpoint", sorted(ctl.endpoints),
          sorted(l.split(",")[0] for l in r.out.splitlines()), r)
    data, r = ctl.json(["endpoint", "status", "--cluster"])
    check("endpoint status --cluster: one status per member", members, len(data), r)

    # endpoint hashkv: every member hashes the same history, compacted at the same revision.
    def hashes_agree():
        data, r = ctl.json(["endpoint", "hashkv"])
        got = {h["Endpoint"]: (h["HashKV"].get("hash"), h["HashKV"].get("compact_revision"))
               for h in data}
        ok = (sorted(got) == sorted(ctl.endpoints) and len(set(got.values())) == 1
              and next(iter(got.values()))[1] == compact_rev)
        return ok, got
    wait_until("endpoint hashkv: equal hashes, compact_revision %d" % compact_rev, hashes_agree,
               10, "one (hash, %d) for all endpoints" % compact_rev)
    data, r = ctl.json(["endpoint", "hashkv", "--cluster"])
    check("endpoint hashkv --cluster: one hash per member", members, len(data), r)

    r = ctl.ok(["endpoint", "health"])
    lines = sorted(r.err.splitlines() + r.out.splitlines())
    check("endpoint health: one line per endpoint", len(ctl.endpoints), len(lines), r)
    for ep, line in zip(sorted(ctl.endpoints), lines):
        if not re.match(r"^%s is healthy: successfully committed proposal: took = \S+$"
                        % re.escape(ep), line):
            fail("endpoint health line", "%s is healthy: successfully committed proposal: "
                 "took = ..." % ep, line, r)
    data, r = ctl.json(["endpoint", "health"])
    check("endpoint health -w json", sorted((ep, True) for ep in ctl.endpoints),
          sorted((h.get("endpoint"), h.get("health")) for h in data), r)
    r = ctl.ok(["endpoint", "health", "--cluster"])
    check("endpoint health --cluster: healthy members", members,
          len([l for l in (r.out + r.err).splitlines() if " is healthy: " in l]), r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoints")
    ap.add_argument("--members", type=int)
    ap.add_argument("--etcdctl", default="etcdctl")
    args = ap.parse_args()
    endpoints = [e for e in args.endpoints.split(",") if e]
    ctl = Ctl(args.etcdctl, endpoints)
    members = args.members or len(endpoints)

    def body(step):
        ctl.ok(["del", "--prefix", ROOT])
        step("kv", test_kv, ctl)
        step("txn", test_txn, ctl)
        watch_rev = step("watch", test_watch, ctl)
        compact_rev = step("compact", test_compact, ctl, watch_rev)
        step("lease", test_lease, ctl)
        step("cluster", test_cluster, ctl, members, compact_rev)
        ctl.ok(["del", "--prefix", ROOT])
    return run_steps("etcdctl compat", body)


if __name__ == "__main__":
    sys.exit(main())
