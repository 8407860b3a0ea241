namespace WebSsl.Testing;

/// <summary>The checkout the tests run from: the folder with WebSsl.Assistant.sln above the test assembly.</summary>
public static class Repository
{
    public static string Root
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "WebSsl.Assistant.sln")))
                {
                    return folder.FullName;
                }
            }
            throw new DirectoryNotFoundException($"no WebSsl.Assistant.sln above {AppContext.BaseDirectory}");
        }
    }
}
