using WebSsl.Language.Engine;

namespace WebSsl.Language.Tests.Engine;

public sealed class StopStringFilterTests
{
    [Fact]
    public void Text_that_might_start_a_stop_string_is_held_back_until_decided()
    {
        var filter = new StopStringFilter(["</answer>"]);
        Assert.Equal("The total is 4", filter.Push("The total is 4"));
        Assert.Equal("2", filter.Push("2</ans"));  // "</ans" may begin the stop string: held back
        Assert.Equal("", filter.Push("wer> and more"));
        Assert.True(filter.Stopped);
        Assert.Equal("", filter.Push("ignored"));
    }

    [Fact]
    public void Held_back_text_is_released_when_it_turns_out_not_to_be_a_stop_string()
    {
        var filter = new StopStringFilter(["STOP"]);
        Assert.Equal("go ", filter.Push("go ST"));
        Assert.Equal("STart", filter.Push("art"));
        Assert.Equal("S", string.Concat(filter.Push("S"), filter.Flush()));
        Assert.False(filter.Stopped);
    }

    [Fact]
    public void The_earliest_of_several_stop_strings_wins()
    {
        var filter = new StopStringFilter(["\n\n", "User:"]);
        Assert.Equal("42", filter.Push("42User: hi\n\n"));
        Assert.True(filter.Stopped);
    }

    [Fact]
    public void Without_stop_strings_everything_passes_at_once() =>
        Assert.Equal("abc", new StopStringFilter([]).Push("abc"));
}
