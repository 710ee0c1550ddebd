import CKernels

/// The process's standard output, for the command-line tool.
public enum StandardOutput {
    /// Line-buffered even when redirected to a file, so each progress line reaches a scheduler's
    /// log as it is printed (C's default for a file is block buffering).
    public static func makeLineBuffered() { eq_stdout_line_buffered() }
}
