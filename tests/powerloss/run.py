#!/usr/bin/python3
"""The long power-loss run: dhcp4d on powerfs under perfdhcp load, the power cut
at a random point CUTS times, every acknowledged lease checked after every
restart (tests/lib/powerloss.py has the checks). Prints the figures; exits 1 on
any loss, double allocation or torn state file.

    tests/powerloss/run.py --cuts 200 [--seed N] [--rate 400] [--control]

--control preloads the nosync shim (fdatasync does nothing): then it exits 1
unless losses were found. As root; ARBOR_BUILD picks the build (default build/)."""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from arborlab import Lab  # noqa: E402
from powerloss import Dhcp4dCampaign  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cuts", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=int, default=400, help="perfdhcp exchanges per second")
    ap.add_argument("--max-acks", type=int, default=300, help="a cut comes after 1..N ACKs of a run")
    ap.add_argument("--control", action="store_true", help="fdatasync disabled: losses expected")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    lab = Lab("plrun")
    started = time.monotonic()
    try:
        c = Dhcp4dCampaign(lab, seed=args.seed, control=args.control, rate=args.rate,
                           max_acks_per_cut=args.max_acks, log=print if args.verbose else None)
        fig = c.run(args.cuts)
    finally:
        lab.close()
    print(("control (fdatasync disabled): " if args.control else "") + fig.line(c)
          + f"; {time.monotonic() - started:.0f} s")
    for e in fig.examples:
        print("  " + e)
    bad = fig.losses or fig.doubles or fig.torn_files
    if args.control:
        return 0 if fig.losses else 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
