#!/usr/bin/env python3
"""capture-flows.py OUT [FLOWS]: records the flow kit's IPFIX datagrams for the collector's
single-threaded benchmark (Benchmarks' flow-ingest). Runs flowgen.py (same options as
bench-flows.sh: IPFIX, 25 records a datagram, --pool 40000, seed 1) against a loopback socket and
writes each datagram as a 4-byte big-endian length and its bytes. FLOWS defaults to 2,000,000.
The kit is found at ../shared/corpora/flows beside the repository, or FLOW_KIT."""
import os, socket, struct, subprocess, sys

out, flows = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
here = os.path.dirname(os.path.abspath(__file__))
kit = os.environ.get("FLOW_KIT", os.path.join(here, "..", "..", "shared", "corpora", "flows"))
receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
receiver.bind(("127.0.0.1", 0))
port = receiver.getsockname()[1]
# A modest rate, so that nothing is dropped on the way into the capture.
generator = subprocess.Popen([sys.executable, os.path.join(kit, "flowgen.py"), "--proto", "ipfix", "--port", str(port),
                              "--rate", "100000", "--flows", str(flows), "--pool", "40000", "--seed", "1"], stdout=subprocess.DEVNULL)
receiver.settimeout(5)
count = 0
with open(out, "wb") as f:
    try:
        while True:
            datagram = receiver.recv(65535)
            f.write(struct.pack(">I", len(datagram)) + datagram)
            count += 1
    except socket.timeout:
        pass
generator.wait()
print(f"{count} datagrams written to {out}", file=sys.stderr)
