namespace WebSsl.Vision.Benchmarks;

/// <summary>Resident memory of this process from /proc (Linux); null elsewhere.</summary>
public static class ProcessMemory
{
    /// <summary>Current resident set size in bytes (VmRSS).</summary>
    public static long? ResidentBytes => Read("VmRSS:");

    /// <summary>Peak resident set size in bytes since start or since <see cref="TryResetPeak"/> (VmHWM).</summary>
    public static long? PeakResidentBytes => Read("VmHWM:");

    /// <summary>Resets the peak to the current size (writing 5 to /proc/self/clear_refs, Linux 4.0+). False when not permitted.</summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long? Read(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return null;
        }
        foreach (string line in File.ReadLines(status))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                string[] parts = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        return null;
    }
}
