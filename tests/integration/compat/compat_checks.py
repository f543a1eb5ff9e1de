"""What both compat scripts share: etcd's error texts, the failure they raise, checks with a
deadline, and the step runner that prints which steps passed."""
import sys
import time
import traceback

COMPACTED = "etcdserver: mvcc: required revision has been compacted"
FUTURE = "etcdserver: mvcc: required revision is a future revision"
LEASE_NOT_FOUND = "etcdserver: requested lease not found"
DUPLICATE_KEY = "etcdserver: duplicate key given in txn request"


class CheckFailed(Exception):
    pass


def fail(step, expected, actual, result=None):
    """`result`: anything with a show() that explains the failing call (a command's output)."""
    msg = "FAILED: %s\nexpected: %r\nactual:   %r" % (step, expected, actual)
    if result is not None:
        msg += "\n" + result.show()
    raise CheckFailed(msg)


def check(step, expected, actual, result=None):
    if expected != actual:
        fail(step, expected, actual, result)


def wait_until(step, pred, timeout, what):
    """pred() -> (ok, last seen); polls every 0.1 s until ok, fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        ok, last = pred()
        if ok:
            return last
        if time.monotonic() > deadline:
            fail(step + " (within %ss)" % timeout, what, last)
        time.sleep(0.1)


def run_steps(title, body):
    """Calls body(step), where step(name, fn, *args) runs one timed step and returns its result;
    prints the outcome and which steps passed, and returns the script's exit code."""
    t0 = time.monotonic()
    passed = []

    def step(name, fn, *args):
        t = time.monotonic()
        out = fn(*args)
        passed.append("%s %.1fs" % (name, time.monotonic() - t))
        return out
    try:
        body(step)
    except CheckFailed as e:
        print(str(e))
        print("steps passed: " + ", ".join(passed))
        return 1
    except Exception:  # noqa: BLE001 - an unexpected exception is a failure with its traceback
        traceback.print_exc(file=sys.stdout)
        print("steps passed: " + ", ".join(passed))
        return 1
    print("%s: all checks passed in %.1fs (%s)" % (title, time.monotonic() - t0,
                                                  ", ".join(passed)))
    return 0
