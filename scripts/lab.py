#!/usr/bin/python3
"""The arbor network lab (driven by scripts/demo).

Today the lab is one machine, "root", in its own network namespace with a LAN
bridge, running the contract fixture daemon (the first real daemon replaces it
as each daemon lands). The lab shows the contract end to end: status, health,
events, a command, a rejected reload, and a kill -9 that loses nothing.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))

from arborlab import Lab, binary  # noqa: E402

ARBORCTL = None


def say(text):
    print(f"\n\033[1m## {text}\033[0m", flush=True)


def ctl(d, *args):
    argv = [ARBORCTL, "--runtime-dir", d.runtime_dir] + list(args)
    print("$ arborctl " + " ".join(args), flush=True)
    r = subprocess.run(argv, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    return r


def main():
    global ARBORCTL
    keep = "--keep" in sys.argv
    ARBORCTL = binary("ctl/arborctl")
    lab = Lab(prefix="arbordemo")
    try:
        say("the root machine: a network namespace with a LAN bridge")
        root = lab.add_netns("root")
        lab.bridge(root, "lan0")
        root.exec(["ip", "addr", "add", "192.168.1.1/24", "dev", "lan0"])
        print(root.exec(["ip", "-br", "addr", "show", "lan0"]).stdout.strip())

        say("start the contract fixture daemon inside it")
        config = {"machine": {"name": "root", "domain": "home.arpa"}, "fixture": {"greeting": "hello, lab"}}
        d = lab.daemon("fixture", binary("tests/arbor-fixtured"), config, netns=root).start()
        ctl(d, "status")
        ctl(d, "status", "fixture")

        say("commands: bump the durable counter three times, renew")
        for _ in range(3):
            ctl(d, "post", "fixture", "/v1/commands/bump", '{"by": 1}')
        ctl(d, "renew", "all")

        say("a broken config is rejected and the old one keeps running")
        d.write_config('{"machine": {"name": "root"}, "fixture": {"greeting": 42}}')
        ctl(d, "reload", "fixture")
        d.write_config(config)

        say("kill -9, restart: the counter and the event sequence survive")
        d.kill9()
        d.start()
        ctl(d, "get", "fixture", "/v1/counter")
        ctl(d, "events", "fixture")
        ctl(d, "health")

        if keep:
            say(f"the lab keeps running; try: build/ctl/arborctl --runtime-dir {d.runtime_dir} status  (Ctrl-C ends it)")
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
        say("stop")
        ctl(d, "stop", "all")
        d.wait_exit(10)
    finally:
        lab.close()
    print("\nlab removed.")


if __name__ == "__main__":
    main()
