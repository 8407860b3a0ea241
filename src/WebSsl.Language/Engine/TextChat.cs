using System.Runtime.CompilerServices;
using WebSsl.Language.Prompting;

namespace WebSsl.Language.Engine;

/// <summary>
/// A multi-turn chat on top of <see cref="LanguageEngine"/>: keeps the turns, builds each prompt with the chat template, and
/// records every answer with the tokens the model generated, so each follow-up decodes only the new turn.
/// </summary>
public sealed class TextChat : IDisposable
{
    private readonly LanguageEngine _engine;
    private readonly PromptBuilder _builder;
    private readonly List<ChatTurn> _turns = [];

    public TextChat(LanguageEngine engine, PromptBuilder builder, string? systemPrompt = null)
    {
        _engine = engine;
        _builder = builder;
        Session = engine.CreateSession();
        if (!string.IsNullOrEmpty(systemPrompt))
        {
            _turns.Add(ChatTurn.System(systemPrompt));
        }
    }

    public EngineSession Session { get; }

    public IReadOnlyList<ChatTurn> Turns => _turns;

    /// <summary>Adds <paramref name="user"/>, streams the answer, and records it. A cancelled or failed turn is taken back.</summary>
    public async IAsyncEnumerable<GenerationChunk> SendAsync(ChatTurn user, SamplingOptions sampling,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (user.Role != ChatRole.User)
        {
            throw new BadInputException("a conversation turn sent to the model must be a user turn.");
        }
        _turns.Add(user);
        Prompt prompt;
        IAsyncEnumerable<GenerationChunk> stream;
        try
        {
            prompt = _builder.Build(_turns);
            stream = _engine.GenerateAsync(Session, prompt, sampling, cancellationToken);
        }
        catch
        {
            _turns.RemoveAt(_turns.Count - 1);
            throw;
        }
        bool answered = false;
        try
        {
            await foreach (GenerationChunk chunk in stream.ConfigureAwait(false))
            {
                if (chunk.Final is { } result)
                {
                    _turns.Add(ChatTurn.Assistant(result.Text, result.Tokens));
                    answered = true;
                }
                yield return chunk;
            }
        }
        finally
        {
            if (!answered)
            {
                _turns.Remove(user);
            }
        }
    }

    public void Dispose() => Session.Dispose();
}
