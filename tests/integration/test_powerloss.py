"""Power loss, not kill -9: the daemons run on powerfs (tests/tools/powerfs),
which keeps nothing that was not synced when the power is cut. dhcp4d under
perfdhcp load loses no acknowledged lease over several cuts, and the same run
without fsync (the control) does; a full disk and a failed fdatasync in the
middle of the load lose nothing either."""
import os

import pytest

from arborlab import wait_for
from powerloss import Dhcp4dCampaign

CUTS = int(os.environ.get("ARBOR_POWERLOSS_CUTS", "8"))


def test_dhcp4d_power_cuts_lose_no_acknowledged_lease(lab):
    c = Dhcp4dCampaign(lab, seed=CUTS)
    fig = c.run(CUTS)
    print(fig.line(c))
    assert fig.cuts == CUTS and len(c.acked) >= CUTS, fig.line(c)
    assert fig.losses == 0 and fig.doubles == 0 and fig.torn_files == 0, f"{fig.line(c)}: {fig.examples}"


def test_dhcp4d_control_without_fsync_loses_leases(lab):
    """The same campaign with fsync and fdatasync turned into no-ops: if this
    found nothing, the campaign could not find anything either."""
    c = Dhcp4dCampaign(lab, seed=3, control=True)
    fig = c.run(2)
    print(fig.line(c))
    assert fig.losses > 0, f"without fsync acknowledged leases must be lost: {fig.line(c)}"


def journal_fault(command, counter):
    """A fault on the lease journal under load, then 100 more ACKs, then the
    power cut; what the clients were acknowledged must all come back."""
    def during(c, acks):
        c.disk.command(command)
        wait_for(lambda: c.disk.counters()[counter] >= 1, 30, f"the fault ({command}) to happen")
        wait_for(lambda: "could not be written" in str(c.daemon.get("/v1/healthz").json()), 10,
                 "dhcp4d to report the failed commit")
        c.disk.command("full off")
        seen = acks()
        wait_for(lambda: acks() >= seen + 100, 60, "100 more DHCPACKs after the fault")
    return during


def test_dhcp4d_short_write_on_a_full_disk_loses_nothing(lab):
    """The disk fills in the middle of a journal batch: a fragment of it is on
    disk. Written behind that fragment, every later record would be lost at
    replay; cut back first, none is."""
    c = Dhcp4dCampaign(lab, seed=11)
    c.cut_once(during=journal_fault("full 50 leases.json.journal", "enospc"))
    fig = c.run(0)
    assert fig.losses == 0 and fig.doubles == 0 and fig.torn_files == 0, f"{fig.line(c)}: {fig.examples}"
    assert fig.acks >= 100


def test_dhcp4d_failed_fdatasync_loses_nothing(lab):
    """A journal fdatasync fails as Linux fails it: the batch never reaches the
    disk and a later fdatasync succeeds anyway, leaving a hole before every
    later record. dhcp4d must rewrite its state from memory instead of going on
    appending to that file."""
    c = Dhcp4dCampaign(lab, seed=12)
    c.cut_once(during=journal_fault("fail-sync 1 leases.json.journal", "failed_syncs"))
    fig = c.run(0)
    assert fig.losses == 0 and fig.doubles == 0 and fig.torn_files == 0, f"{fig.line(c)}: {fig.examples}"
    assert fig.acks >= 100
