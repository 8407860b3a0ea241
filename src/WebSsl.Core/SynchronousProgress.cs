namespace WebSsl;

/// <summary>
/// An <see cref="IProgress{T}"/> that reports on the caller's thread, in order. <see cref="Progress{T}"/> posts each
/// report to the thread pool when there is no synchronization context, so a handler that reacts (cancels, records the
/// step) may run after the work has already moved on; forwarding progress must not add that delay.
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
