import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Row-major single-precision matrix products through OpenBLAS, named as the math reads.
public enum Matrix {
    /// C (m x n) = op(A) * op(B) + beta * C, row-major, where op(A) is m x k and op(B) is k x n.
    /// A transposed is stored k x m; B transposed is stored n x k. Leading dimensions default to
    /// the stored row lengths; pass them to work on a block of columns of a wider matrix.
    public static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                                m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                                beta: Float = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), 1,
                    a, blasint(lda ?? (transposeA ? m : k)), b, blasint(ldb ?? (transposeB ? k : n)),
                    beta, c, blasint(ldc ?? n))
    }

    /// y += alpha * x over `count` elements.
    public static func addScaled(_ x: UnsafePointer<Float>, times alpha: Float, to y: UnsafeMutablePointer<Float>, count: Int) {
        cblas_saxpy(blasint(count), alpha, x, 1, y, 1)
    }

    /// Floating-point operations of one m x n x k product (a multiply and an add each).
    public static func flops(m: Int, n: Int, k: Int) -> Double { 2 * Double(m) * Double(n) * Double(k) }

    /// Ends OpenBLAS's worker threads, for a command that does no matrix work (`pods up`,
    /// `pods down`): OpenBLAS starts them when podgap loads, and each spins on sched_yield for
    /// 2^28 cycles (0.1 s at 2.6 GHz) before it sleeps, a core taken from the runc and CNI
    /// processes such a command waits for. A later product starts them again (OpenBLAS's own
    /// `exec_blas_async` does). `blas_thread_shutdown_` is OpenBLAS's (its fork handler), not in
    /// its headers; nothing happens where the library has no such function.
    public static func endThreads() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "blas_thread_shutdown_") else { return }
        _ = unsafeBitCast(symbol, to: (@convention(c) () -> Int32).self)()
    }

    /// OpenBLAS's own threads: one per rank when ranks fill the cores, else they fight for them.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}
