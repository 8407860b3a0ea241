namespace WebSsl.Assistant.SemanticKernel.Tests;

/// <summary>The chat client's memory of generated answer tokens: per conversation, bounded, least recently used forgotten first.</summary>
public sealed class AnswerTokenMemoryTests
{
    [Fact]
    public void Equal_answers_of_different_conversations_keep_their_own_tokens()
    {
        var memory = new AnswerTokenMemory(capacity: 8);
        memory.Remember("a", "B", [5]);
        memory.Remember("b", "B", [6, 7]);
        memory.Remember(null, "B", [8]);
        Assert.Equal([5], memory.Recall("a", "B"));
        Assert.Equal([6, 7], memory.Recall("b", "B"));
        Assert.Equal([8], memory.Recall(null, "B"));
        Assert.Null(memory.Recall("c", "B"));
    }

    [Fact]
    public void Past_its_capacity_the_least_recently_used_answer_is_forgotten_not_everything()
    {
        var memory = new AnswerTokenMemory(capacity: 3);
        memory.Remember("c", "one", [1]);
        memory.Remember("c", "two", [2]);
        memory.Remember("c", "three", [3]);
        Assert.NotNull(memory.Recall("c", "one")); // used: now the most recent
        memory.Remember("c", "four", [4]);
        Assert.Equal(3, memory.Count);
        Assert.Null(memory.Recall("c", "two"));
        Assert.Equal([1], memory.Recall("c", "one"));
        Assert.Equal([4], memory.Recall("c", "four"));
    }
}
