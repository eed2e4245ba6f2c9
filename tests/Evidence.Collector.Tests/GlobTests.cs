namespace TrustStack.Evidence.Collector.Tests;

public sealed class GlobTests
{
    [Theory]
    [InlineData("/etc/*.conf", "/etc/a.conf", true)]
    [InlineData("/etc/*.conf", "/etc/sub/a.conf", false)]
    [InlineData("/etc/**/*.conf", "/etc/a.conf", true)]
    [InlineData("/etc/**/*.conf", "/etc/x/y/a.conf", true)]
    [InlineData("/usr/bin/?s", "/usr/bin/ls", true)]
    [InlineData("/usr/bin/?s", "/usr/bin/lss", false)]
    public void ToRegex_Patterns_MatchAsShellGlobs(string pattern, string path, bool matches)
    {
        Assert.Equal(matches, Glob.ToRegex(pattern).IsMatch(path));
    }

    [Fact]
    public void Expand_RecursivePattern_FindsNestedFiles()
    {
        var dir = Directory.CreateTempSubdirectory("ts-glob-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "a", "b"));
            File.WriteAllText(Path.Combine(dir.FullName, "top.conf"), "");
            File.WriteAllText(Path.Combine(dir.FullName, "a", "b", "deep.conf"), "");
            File.WriteAllText(Path.Combine(dir.FullName, "a", "other.txt"), "");

            var found = Glob.Expand(dir.FullName + "/**/*.conf").Select(p => Path.GetFileName(p)).Order().ToArray();

            Assert.Equal(["deep.conf", "top.conf"], found);
            Assert.Equal(3, Glob.Expand(dir.FullName).Count());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
