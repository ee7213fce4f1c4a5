"""Power-loss campaigns: dhcp4d on powerfs under perfdhcp load, the power cut
at a random point again and again, dhcp4d restarted on what survived each time.

The checks, after every restart:
  - every lease a client was acknowledged (a DHCPACK captured on the client
    side, since the first cut) is in dhcp4d's lease table, bound to that client;
  - no address was ever acknowledged to two clients;
  - the state files on the disk are whole: leases.json parses, the journal is
    whole records with at most a torn last line, the event log likewise;
  - leftover temporaries (.NAME.tmp.PID) are gone once dhcp4d has started.

Used briefly by tests/integration/test_powerloss.py and at length by
tests/powerloss/run.py. The control run (control=True) preloads the nosync
shim with fdatasync alone disabled (the journal's group commit; state files
keep their fsync): the same campaign must then find losses.
"""
import json
import os
import random
import subprocess
from dataclasses import dataclass, field

from arborlab import binary, wait_for
from capture import Capture, dhcp4_acks
from powerfs import PowerFS, nosync_env

SERVER = "10.77.0.1"


@dataclass
class Figures:
    cuts: int = 0
    torn_cuts: int = 0
    acks: int = 0             # DHCPACKs captured on the client side
    restarts_checked: int = 0
    leases_checked: int = 0   # (lease, restart) pairs verified
    losses: int = 0           # acknowledged leases missing after a restart
    doubles: int = 0          # an address acknowledged to a second client
    torn_files: int = 0       # state files that were not whole
    torn_tails: int = 0       # torn last lines in the journal or event log (allowed)
    leftovers: int = 0        # temporaries found on the disk after a cut (allowed, removed at start)
    examples: list = field(default_factory=list)

    def line(self, campaign):
        return (f"cuts {self.cuts} ({self.torn_cuts} torn), ACKs captured {self.acks}, acknowledged leases "
                f"{len(campaign.acked)}, lease checks {self.leases_checked} over {self.restarts_checked} restarts, "
                f"losses {self.losses}, addresses given twice {self.doubles}, torn state files {self.torn_files}, "
                f"torn tails dropped {self.torn_tails}, leftover temporaries {self.leftovers}")


def whole_lines(path):
    """(lines that parse, whether the last line is torn); raises if a line
    other than the last does not parse."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    torn = lines[-1] != b""
    body = lines[:-1]
    parsed = [json.loads(l) for l in body]  # every newline-ended line is whole
    if torn:
        try:
            json.loads(lines[-1])
            torn = False  # a whole record that only misses its newline
        except ValueError:
            pass
    return parsed, torn


class Dhcp4dCampaign:
    def __init__(self, lab, seed=1, control=False, rate=400, macs=1500, max_acks_per_cut=300, log=None):
        self.lab = lab
        self.rng = random.Random(seed)
        self.rate = rate
        self.macs = macs
        self.max_acks = max_acks_per_cut
        self.log = log or (lambda msg: None)
        self.srv = lab.add_netns("plsrv")
        self.cli = lab.add_netns("plcli")
        lab.veth(self.srv, "srv0", self.cli, "cli0")
        self.srv.exec(["ip", "addr", "add", f"{SERVER}/16", "dev", "srv0"])
        self.cli.exec(["ip", "addr", "add", "10.77.0.2/16", "dev", "cli0"])
        cfg = {"machine": {"name": "powerloss"},
               "dhcp4d": {"servers": [{"interface": "srv0", "subnet": "10.77.0.0/16",
                                       "pools": [{"start": "10.77.1.0", "end": "10.77.31.255"}],
                                       "lease_time": 86400}]}}
        wrapper = ["env", *nosync_env("fdatasync")] if control else None
        self.daemon = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), cfg, netns=self.srv, wrapper=wrapper)
        self.disk = PowerFS(lab, self.daemon.state_dir)
        self.acked = {}  # address -> mac: every lease a client was told it has
        self.fig = Figures()

    def verify(self):
        """dhcp4d has just started on what survived: every acknowledged lease is there."""
        d = self.daemon
        held = {l["address"]: l["mac"] for l in d.get("/v1/leases?state=bound").json()["leases"]}
        self.fig.restarts_checked += 1
        for addr, mac in self.acked.items():
            self.fig.leases_checked += 1
            if held.get(addr) != mac:
                self.fig.losses += 1
                if len(self.fig.examples) < 5:
                    self.fig.examples.append(f"lost {addr} of {mac} (now {held.get(addr)})")
        left = [n for n in os.listdir(d.state_dir) if ".tmp." in n]
        if left:
            self.fig.torn_files += 1
            self.fig.examples.append(f"temporaries not removed at start: {left}")

    def check_disk(self):
        """The state files on the disk after the cut: old or new, never torn."""
        disk = self.disk
        names = os.listdir(disk.backing)
        self.fig.leftovers += sum(".tmp." in n for n in names)
        try:
            if "leases.json" in names:
                with open(disk.disk_path("leases.json")) as f:
                    snap = json.load(f)
                assert isinstance(snap["generation"], int) and isinstance(snap["data"]["leases"], list)
            if "leases.json.journal" in names:
                records, torn = whole_lines(disk.disk_path("leases.json.journal"))
                assert records and "journal" in records[0], "the journal starts with its header"
                self.fig.torn_tails += torn
            if "events.jsonl" in names:
                _, torn = whole_lines(disk.disk_path("events.jsonl"))
                self.fig.torn_tails += torn
        except (ValueError, KeyError, AssertionError, TypeError) as e:
            self.fig.torn_files += 1
            self.fig.examples.append(f"cut {self.fig.cuts}: a torn state file: {e!r}")

    def record(self, acks):
        for _, addr, mac in acks:
            self.fig.acks += 1
            was = self.acked.get(addr)
            if was is not None and was != mac:
                self.fig.doubles += 1
                if len(self.fig.examples) < 5:
                    self.fig.examples.append(f"{addr} acknowledged to {was}, then to {mac}")
            self.acked[addr] = mac

    def cut_once(self, during=None):
        """One run from start to power cut. during(campaign, acks), if given,
        runs once target ACKs were seen, before the cut (a fault to inject);
        acks() counts the ACKs captured so far."""
        d = self.daemon
        d.start(timeout=30)
        if self.fig.cuts:
            self.verify()
        cap = Capture(self.lab, self.cli, "cli0", "udp port 67 or udp port 68")
        # perfdhcp counts MACs up from its base: a random base per cut mixes
        # clients seen before (their lease must come back the same) and new ones.
        base = f"mac=00:0c:01:02:{self.rng.randrange(16):02x}:00"
        perf = self.cli.popen(["perfdhcp", "-4", "-r", str(self.rate), "-R", str(self.macs), "-b", base,
                               "-l", "cli0", SERVER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = self.rng.randint(1, self.max_acks)
        try:
            acks = lambda: len(dhcp4_acks(cap.packets()))  # noqa: E731
            wait_for(lambda: acks() >= target, 60, f"{target} DHCPACKs")
            if during:
                during(self, acks)
            torn = self.rng.random() < 0.5 and not during
            self.disk.cut(torn=self.rng.randrange(1 << 31) if torn else None)
            self.fig.torn_cuts += torn
        finally:
            d.kill9()  # the machine goes down with the power
            perf.kill()
            perf.wait(10)
            cap.stop()
        self.fig.cuts += 1
        self.record(dhcp4_acks(cap.packets()))
        self.disk.unmount()
        self.check_disk()
        self.disk.mount()
        self.log(f"cut {self.fig.cuts}: {target} ACKs wanted, {len(self.acked)} leases acknowledged so far")

    def run(self, cuts):
        for _ in range(cuts):
            self.cut_once()
        self.daemon.start(timeout=30)
        self.verify()
        self.daemon.stop()
        return self.fig
