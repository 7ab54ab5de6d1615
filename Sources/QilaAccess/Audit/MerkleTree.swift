import Crypto

/// Merkle tree hashing and proofs as RFC 9162 (Certificate Transparency 2.0) section 2.1 defines
/// them: leaves hashed as SHA-256(0x00 || entry), interior nodes as SHA-256(0x01 || left || right).
public enum MerkleTree {
    public typealias Hash = [UInt8]

    public static func leafHash(_ entry: [UInt8]) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: entry)
        return Array(hasher.finalize())
    }

    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The hash of the empty tree: SHA-256 of nothing.
    public static let emptyRoot: Hash = Array(SHA256.hash(data: [UInt8]()))

    /// MTH over the given leaf hashes.
    public static func root(_ leaves: ArraySlice<Hash>) -> Hash {
        var frontier = MerkleFrontier()
        for leaf in leaves { frontier.append(leaf) }
        return frontier.root
    }

    public static func root(_ leaves: [Hash]) -> Hash { root(leaves[...]) }

    /// The largest power of two smaller than `n` (n > 1).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// PATH(m, D[n]): the audit path proving leaf `index` is in the tree of these leaves.
    public static func inclusionProof(index: Int, leaves: ArraySlice<Hash>) -> [Hash] {
        let n = leaves.count
        guard n > 1 else { return [] }
        let k = split(n)
        let start = leaves.startIndex
        if index < k {
            return inclusionProof(index: index, leaves: leaves[start..<start + k]) + [root(leaves[(start + k)...])]
        } else {
            return inclusionProof(index: index - k, leaves: leaves[(start + k)...]) + [root(leaves[start..<start + k])]
        }
    }

    /// PROOF(m, D[n]): proves the tree of the first `m` leaves is a prefix of the tree of all.
    public static func consistencyProof(from m: Int, leaves: ArraySlice<Hash>) -> [Hash] {
        guard m > 0, m < leaves.count else { return [] }
        return subproof(m, leaves, true)
    }

    private static func subproof(_ m: Int, _ leaves: ArraySlice<Hash>, _ complete: Bool) -> [Hash] {
        let n = leaves.count
        if m == n { return complete ? [] : [root(leaves)] }
        let k = split(n)
        let start = leaves.startIndex
        if m <= k {
            return subproof(m, leaves[start..<start + k], complete) + [root(leaves[(start + k)...])]
        } else {
            return subproof(m - k, leaves[(start + k)...], false) + [root(leaves[start..<start + k])]
        }
    }

    /// Verifies an inclusion proof (RFC 9162 section 2.1.3.2).
    public static func verifyInclusion(index: Int64, treeSize: Int64, leafHash: Hash, proof: [Hash], root: Hash) -> Bool {
        guard index < treeSize, index >= 0 else { return false }
        var fn = index
        var sn = treeSize - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Verifies a consistency proof between two tree heads (RFC 9162 section 2.1.4.2).
    public static func verifyConsistency(
        firstSize: Int64, secondSize: Int64, firstRoot: Hash, secondRoot: Hash, proof: [Hash]
    ) -> Bool {
        guard firstSize > 0, firstSize <= secondSize else { return false }
        if firstSize == secondSize { return proof.isEmpty && firstRoot == secondRoot }
        var path = proof
        if firstSize & (firstSize - 1) == 0 {  // a power of two: the first root starts the path
            path.insert(firstRoot, at: 0)
        }
        guard !path.isEmpty else { return false }
        var fn = firstSize - 1
        var sn = secondSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == firstRoot && sr == secondRoot
    }
}

/// The right edge of a growing Merkle tree: the roots of its perfect subtrees, largest first.
/// Appending is O(log n) and the root of the whole tree is available at any time.
public struct MerkleFrontier: Sendable {
    private var stack: [(size: Int64, hash: MerkleTree.Hash)] = []
    public private(set) var size: Int64 = 0

    public init() {}

    public mutating func append(_ leafHash: MerkleTree.Hash) {
        var node = (size: Int64(1), hash: leafHash)
        while let last = stack.last, last.size == node.size {
            stack.removeLast()
            node = (last.size * 2, MerkleTree.nodeHash(last.hash, node.hash))
        }
        stack.append(node)
        size += 1
    }

    public var root: MerkleTree.Hash {
        guard var hash = stack.last?.hash else { return MerkleTree.emptyRoot }
        for node in stack.dropLast().reversed() {
            hash = MerkleTree.nodeHash(node.hash, hash)
        }
        return hash
    }
}
