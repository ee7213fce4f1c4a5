"""Stopping dhcpcd, a peer in the DHCPv4 and DHCPv6-PD tests, so that it releases.

dhcpcd 9.4.1 (Debian bookworm) drops a signal that arrives while its manager
waits for the privileged proxy (a hook script, an address or route change): the
wait runs a nested event loop whose signal handler only reaps children
(src/privsep-root.c, ps_root_signalcb). Seen here: a SIGTERM sent while a
BOUND hook sleeps is never logged and dhcpcd runs on; a second one stops it. A
test that sends one SIGTERM right after a renewal, when the hooks run, waits
forever (CI, test_dhcpcd_requesting_router). So the signal is sent
again until dhcpcd logs that it got it; from then on it has `timeout` seconds
to release and exit.
"""
import signal
import subprocess
import time

RECEIVED = "received SIGTERM"


def stop_dhcpcd(p, log_path, timeout=30.0, resend_after=1.0, server_log=None):
    """SIGTERMs dhcpcd (process p, logging to log_path) until it says it got
    the signal, then waits for it to exit; kills it and raises if it does not,
    with the server's log (server_log(), if given) beside dhcpcd's."""
    deadline = time.monotonic() + timeout
    sent = 0
    last = 0.0
    while p.poll() is None:
        now = time.monotonic()
        if now >= deadline:
            p.kill()
            p.wait()
            raise AssertionError(f"dhcpcd did not exit {timeout:g} s after SIGTERM ({sent} sent):\n"
                                 + read_tail(log_path)
                                 + ("\n--- server:\n" + server_log()[-3000:] if server_log else ""))
        if now - last >= resend_after and RECEIVED not in read_tail(log_path, 1 << 20):
            p.send_signal(signal.SIGTERM)
            sent += 1
            last = now
        time.sleep(0.05)
    return sent


def read_tail(path, limit=3000):
    with open(path, errors="replace") as f:
        return f.read()[-limit:]


def start_logged(ns, argv, log_path):
    """Starts dhcpcd in namespace ns with its output (stdout and stderr) in log_path."""
    return ns.popen(argv, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
