import COpenBLAS
import Dispatch
import Synchronization

/// Runs `body(i)` for i in 0..<n on all cores (the calling thread included), for loops whose
/// iterations write disjoint memory. BLAS is idle while these run, so cores are not oversubscribed.
@inline(__always)
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    if n <= 1 { for i in 0..<n { body(i) }; return }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: n) { body($0) }
    }
}

/// A raw pointer that may cross into `parallelFor`'s iterations (each touches its own part).
struct Shared<T>: @unchecked Sendable {
    let p: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { self.p = p }
    init(_ p: UnsafePointer<T>) { self.p = UnsafeMutablePointer(mutating: p) }
}

/// Large scratch buffers (im2col columns, transposed gradients) kept between calls: a fresh
/// 60 MB allocation would be mapped and zero-faulted page by page on every layer of every step.
enum Scratch {
    struct Buffer: @unchecked Sendable {
        let p: UnsafeMutablePointer<Float>
        let count: Int
    }
    private static let pool = Mutex<[Buffer]>([])
    /// At most this many idle buffers are kept.
    private static let keep = 4

    /// A buffer of at least `count` floats (contents undefined); give it back with `release`.
    static func take(_ count: Int) -> Buffer {
        let reused = pool.withLock { p -> Buffer? in
            guard let i = p.indices.filter({ p[$0].count >= count }).min(by: { p[$0].count < p[$1].count }) else { return nil }
            return p.remove(at: i)
        }
        if let reused { return reused }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        Heap.adviseHugePages(p, bytes: count * 4)
        return Buffer(p: p, count: count)
    }

    static func release(_ buffer: Buffer) {
        let evicted = pool.withLock { p -> Buffer? in
            p.append(buffer)
            guard p.count > keep, let i = p.indices.min(by: { p[$0].count < p[$1].count }) else { return nil }
            return p.remove(at: i)
        }
        evicted?.p.deallocate()
    }
}

/// The C heap set to keep what a training step frees for the next step, and large buffers backed
/// by 2 MiB pages. By default glibc maps every block over a few MiB afresh and unmaps it when
/// freed, so each step's activations (tens of MiB per layer) were zero-faulted page by page
/// again: 11,000 page faults a step at 112 px. Every block now comes from the heap (glibc maps
/// none itself), and free memory at its top is returned to the system only past 1 GiB: the
/// kernel had spent 9–14% of a step zeroing fresh pages for activations larger than glibc's
/// largest threshold (32 MiB), which every layer of VGG16 at 224 px makes.
public enum Heap {
    /// Asks the kernel for transparent huge pages on the 2 MiB-aligned part of a fresh buffer, before
    /// it is first written: a 200 MB activation of VGG16 is then mapped in 100 faults instead of
    /// 50,000 (1.8 million page faults in three VGG16 forward passes at 224 px, 36,000 after).
    /// Linux's default is to give huge pages only where asked (`madvise`); elsewhere this does nothing.
    static func adviseHugePages(_ start: UnsafeMutableRawPointer?, bytes: Int) {
        #if os(Linux)
        let page = 2 << 20
        guard let start, bytes >= 2 * page else { return }
        let lo = (Int(bitPattern: start) + page - 1) & ~(page - 1), hi = (Int(bitPattern: start) + bytes) & ~(page - 1)
        guard hi > lo, let p = UnsafeMutableRawPointer(bitPattern: lo) else { return }
        _ = madvise(p, hi - lo, MADV_HUGEPAGE)
        #endif
    }

    /// Returns the heap's free pages to the system (`malloc_trim`), between phases of a run (after
    /// each epoch's evaluation): the heap keeps what a step frees for the next, and a phase whose
    /// blocks differ in size from the last one's must not stack its memory on that one's.
    public static func release() {
        #if os(Linux)
        _ = malloc_trim(0)
        #endif
    }

    /// Sets the heap up as above, once per process (every module's init asks; a pipeline run asks
    /// first: its joins read and write files of megabytes, each fault-zeroed afresh otherwise).
    public static let configure: Void = {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        _ = mallopt(M_MMAP_MAX, 0)
        #endif
    }()
}
