import FacetNN
import Foundation

/// OpenBLAS's best kernels for this processor (`BLASCore`): facet starts itself again, once, with
/// `OPENBLAS_CORETYPE` set when OpenBLAS fell back to a basic set it could do better than.
enum OpenBLASKernels {
    /// Starts the running executable again with `OPENBLAS_CORETYPE` set to the preferred kernel
    /// set, when there is one and the variable is unset; returns (and carries on with OpenBLAS's
    /// own choice) otherwise, or when the restart fails. Call it first thing in `main`, before any
    /// output or thread.
    static func restartIfNeeded(arguments: [String] = CommandLine.arguments) {
        let own = BLASCore.current
        guard getenv("OPENBLAS_CORETYPE") == nil, let core = BLASCore.preferred(over: own, flags: BLASCore.processorFlags()) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(BLASCore.fallbackVariable, own, 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // Only a failed exec returns here.
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(BLASCore.fallbackVariable)
        for p in argv { free(p) }
    }
}
