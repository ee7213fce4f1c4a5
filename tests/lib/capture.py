"""Ground truth from the wire: tcpdump inside a namespace writes what reached an
interface to a pcap file, and the parsers here say what the clients were told
(e.g. every DHCPACK perfdhcp received), to compare with a server's state after
a crash. tcpdump's own count of packets the kernel dropped must be 0, or the
truth is incomplete."""
import os
import re
import signal
import socket
import struct
import subprocess


class Capture:
    def __init__(self, lab, netns, ifname, bpf):
        self.path = os.path.join(lab.mkdtemp("capture-"), "wire.pcap")
        # -U: each packet is written out at once, so packets() works mid-run;
        # -Z root: the file is in a directory only root may write.
        self.proc = netns.popen(["tcpdump", "-i", ifname, "-n", "-U", "-B", "16384", "-s", "2048", "-Z", "root",
                                 "-w", self.path, bpf],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        assert "listening on" in line, f"tcpdump did not start: {line}{self.proc.stderr.read() if self.proc.poll() is not None else ''}"
        self.dropped = None

    def stop(self):
        """Stops tcpdump and checks that the kernel dropped nothing."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        tail = self.proc.communicate(timeout=10)[1]
        m = re.search(r"(\d+) packets? dropped by kernel", tail)
        self.dropped = int(m.group(1)) if m else None
        assert self.dropped == 0, f"tcpdump lost packets, the ground truth is incomplete: {tail}"
        return self

    def packets(self):
        """(time, ethernet frame) for each packet written so far."""
        with open(self.path, "rb") as f:
            data = f.read()
        if len(data) < 24:
            return []
        magic = struct.unpack("<I", data[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        out, pos = [], 24
        while pos + 16 <= len(data):
            sec, frac, incl, _ = struct.unpack(endian + "IIII", data[pos:pos + 16])
            if pos + 16 + incl > len(data):
                break  # the packet being written now
            out.append((sec + frac / (1e9 if nano else 1e6), data[pos + 16:pos + 16 + incl]))
            pos += 16 + incl
        return out


def dhcp4_acks(packets):
    """(time, address, mac) of every DHCPACK with an address (not INFORM's)."""
    acks = []
    for when, frame in packets:
        if len(frame) < 14 or struct.unpack("!H", frame[12:14])[0] != 0x0800:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17 or len(ip) < ihl + 8 + 240:
            continue
        d = ip[ihl + 8:]
        if d[0] != 2 or d[236:240] != b"\x63\x82\x53\x63":
            continue
        i, mtype = 240, None
        while i < len(d) and d[i] != 255:
            if d[i] == 0:
                i += 1
                continue
            if i + 1 >= len(d):
                break
            if d[i] == 53 and d[i + 1] == 1 and i + 2 < len(d):
                mtype = d[i + 2]
            i += 2 + d[i + 1]
        if mtype == 5 and d[16:20] != bytes(4):
            acks.append((when, socket.inet_ntoa(d[16:20]), d[28:34].hex(":")))
    return acks
