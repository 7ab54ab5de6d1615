import Crypto
import Foundation
import QilaCore
import QilaAccess
import Testing

@Suite("Merkle tree (RFC 9162)")
struct MerkleTreeTests {
    static func leaves(_ n: Int) -> [MerkleTree.Hash] {
        (0..<n).map { MerkleTree.leafHash(Array("entry \($0)".utf8)) }
    }

    /// MTH as RFC 9162 section 2.1.1 defines it, recursively, to check the fast paths against.
    static func referenceRoot(_ leaves: ArraySlice<MerkleTree.Hash>) -> MerkleTree.Hash {
        if leaves.isEmpty { return Array(SHA256.hash(data: [UInt8]())) }
        if leaves.count == 1 { return leaves.first! }
        var k = 1
        while k << 1 < leaves.count { k <<= 1 }
        let start = leaves.startIndex
        return MerkleTree.nodeHash(referenceRoot(leaves[start..<start + k]), referenceRoot(leaves[(start + k)...]))
    }

    @Test("leaf and node hashing use the 0x00 and 0x01 prefixes")
    func domainSeparation() {
        let empty = MerkleTree.leafHash([])
        #expect(Hex.encode(empty) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        #expect(Hex.encode(MerkleTree.emptyRoot) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(MerkleTree.nodeHash(empty, empty) != MerkleTree.leafHash(empty + empty))
    }

    @Test("the frontier's root equals the recursive definition for every size up to 70")
    func frontierRoot() {
        let all = Self.leaves(70)
        var frontier = MerkleFrontier()
        #expect(frontier.root == MerkleTree.emptyRoot)
        for n in 1...70 {
            frontier.append(all[n - 1])
            #expect(frontier.root == Self.referenceRoot(all[0..<n]), "size \(n)")
        }
    }

    @Test("every inclusion proof verifies, and fails for another leaf or a tampered path")
    func inclusion() {
        let all = Self.leaves(33)
        for n in 1...33 {
            let root = MerkleTree.root(all[0..<n])
            for m in 0..<n {
                let proof = MerkleTree.inclusionProof(index: m, leaves: all[0..<n])
                #expect(MerkleTree.verifyInclusion(index: Int64(m), treeSize: Int64(n), leafHash: all[m], proof: proof, root: root))
                let other = all[(m + 1) % 33]
                if n > 1 {
                    #expect(!MerkleTree.verifyInclusion(index: Int64(m), treeSize: Int64(n), leafHash: other, proof: proof, root: root))
                }
                if !proof.isEmpty {
                    var tampered = proof
                    tampered[tampered.count / 2][0] ^= 0x01
                    #expect(!MerkleTree.verifyInclusion(index: Int64(m), treeSize: Int64(n), leafHash: all[m], proof: tampered, root: root))
                    #expect(!MerkleTree.verifyInclusion(index: Int64(m), treeSize: Int64(n), leafHash: all[m], proof: Array(proof.dropLast()), root: root))
                }
            }
        }
    }

    @Test("every consistency proof verifies, and a changed old tree does not")
    func consistency() {
        let all = Self.leaves(33)
        for n in 1...33 {
            let newRoot = MerkleTree.root(all[0..<n])
            for m in 1...n {
                let oldRoot = MerkleTree.root(all[0..<m])
                let proof = MerkleTree.consistencyProof(from: m, leaves: all[0..<n])
                #expect(
                    MerkleTree.verifyConsistency(firstSize: Int64(m), secondSize: Int64(n), firstRoot: oldRoot, secondRoot: newRoot, proof: proof),
                    "\(m) -> \(n)")
                var forged = Array(all[0..<m])
                forged[m - 1] = MerkleTree.leafHash(Array("forged".utf8))
                let forgedRoot = MerkleTree.root(forged)
                #expect(
                    !MerkleTree.verifyConsistency(firstSize: Int64(m), secondSize: Int64(n), firstRoot: forgedRoot, secondRoot: newRoot, proof: proof))
            }
        }
    }
}
