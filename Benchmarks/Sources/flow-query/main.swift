// Times the store's one-address query the way the retention benchmark compares it with nfdump:
// `flow-query STORE_ROOT ADDRESS [RUNS]` opens the store read-only (no chain key is used for
// reading), finds every flow of ADDRESS over all organisations and all time, prints the flows as
// CSV on standard output (start, end, source, destination, ports, protocol, packets, octets) and
// each run's time on standard error.
import Crypto
import Foundation
import QilaFlows

let arguments = CommandLine.arguments
guard arguments.count >= 3, let address = FlowAddress(parsing: arguments[2]) else {
    FileHandle.standardError.write(Data("usage: flow-query STORE_ROOT ADDRESS [RUNS]\n".utf8))
    exit(2)
}
let runs = arguments.count > 3 ? Int(arguments[3]) ?? 1 : 1
// Read-only: nothing is recovered or chained, so the key (needed only to sign) is a throwaway.
var configuration = FlowStore.Configuration(root: arguments[1], signingKey: Curve25519.Signing.PrivateKey())
configuration.readOnly = true
let store = try FlowStore(configuration)
var found: [FlowStore.StoredFlow] = []
var times: [Double] = []
for _ in 0..<runs {
    let start = DispatchTime.now().uptimeNanoseconds
    found = try store.flows(of: address, window: Int64.min..<Int64.max)
    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
var out = ""
for flow in found {
    let r = flow.record
    out += "\(r.start),\(r.end),\(r.source),\(r.destination),\(r.sourcePort),\(r.destinationPort),\(r.protocolNumber),\(r.packets),\(r.octets)\n"
}
FileHandle.standardOutput.write(Data(out.utf8))
let sorted = times.sorted()
FileHandle.standardError.write(Data("flows \(found.count) runs \(runs) median_s \(sorted[sorted.count / 2]) min_s \(sorted[0]) all \(times.map { String(format: "%.4f", $0) }.joined(separator: " "))\n".utf8))
