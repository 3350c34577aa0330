/// Length, moment offset and step count of every tensor of a state, in ONE malloc'd
/// block. Its size is the caller's tensor count (up to 2^24 entries: 384 MiB), so it is
/// allocated with malloc and a check: a Swift array that large traps the process when
/// memory is short, and a failed allocation must be SWIFTADAM_ERR_OUT_OF_MEMORY.
final class TensorTable {
    let count: Int
    let lengths: UnsafeMutablePointer<Int>
    let offsets: UnsafeMutablePointer<Int>
    let steps: UnsafeMutablePointer<UInt64>

    /// Zeroed entries for `count` tensors.
    init(count: Int) throws(AdamError) {
        let words = try checkedMul(max(count, 1), 3, "tensor table of \(count) entries")
        let bytes = try checkedMul(words, MemoryLayout<Int>.stride, "tensor table of \(count) entries")
        guard let raw = calloc(words, MemoryLayout<Int>.stride) else {
            throw AdamError(.outOfMemory, "cannot allocate \(bytes) bytes for the table of \(count) tensors")
        }
        self.count = count
        lengths = raw.bindMemory(to: Int.self, capacity: words)
        offsets = lengths + count
        steps = UnsafeMutableRawPointer(lengths + 2 * count).bindMemory(to: UInt64.self, capacity: count)
    }

    deinit { free(lengths) }
}

/// A read-only view of one column of a state's tensor table (`state.lengths`,
/// `state.steps`). Indexing is O(1) and never copies; the view keeps the table alive.
public struct TensorColumn<Element>: RandomAccessCollection {
    let owner: TensorTable
    let base: UnsafeMutablePointer<Element>

    public var startIndex: Int { 0 }
    public var endIndex: Int { owner.count }
    public subscript(i: Int) -> Element {
        precondition(i >= 0 && i < owner.count, "tensor index out of range")
        return base[i]
    }

    /// The column as a buffer, valid inside `body` only.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(UnsafeBufferPointer(start: base, count: owner.count)) }
    }
}
