using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using WebSsl.Assistant.Server.Chat;

namespace WebSsl.Assistant.Server.Conversations;

/// <summary>
/// Conversations and their turns in one SQLite file. The schema is versioned with PRAGMA user_version and migrated
/// forward at start, each step in a transaction; a database from a newer server is refused rather than damaged.
/// </summary>
public sealed class ConversationStore
{
    /// <summary>Schema steps; step i brings the database from version i to i + 1. Only ever append.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL);
        CREATE TABLE turns (
            id TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            question TEXT NOT NULL,
            image_ids TEXT NOT NULL,
            task TEXT NOT NULL,
            answer TEXT NOT NULL DEFAULT '',
            answer_tokens TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL,
            error TEXT,
            details TEXT,
            created_at TEXT NOT NULL,
            completed_at TEXT,
            UNIQUE (conversation_id, seq));
        CREATE INDEX conversations_by_update ON conversations(updated_at DESC);
        """,
    ];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _connectionString;

    public ConversationStore(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
    }

    public string Path { get; }

    public static int SchemaVersion => Migrations.Length;

    /// <summary>Creates or migrates the schema, and marks turns left running by a previous process as interrupted.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await Execute(connection, "PRAGMA journal_mode = WAL;", cancellationToken);
        long version = (long)(await Scalar(connection, "PRAGMA user_version;", cancellationToken))!;
        if (version > Migrations.Length)
        {
            throw new InvalidOperationException(
                $"{Path}: the conversations database has schema version {version}, newer than this server's {Migrations.Length}; use a newer server or another --data-dir.");
        }
        for (long step = version; step < Migrations.Length; step++)
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await Execute(connection, Migrations[step], cancellationToken, transaction);
            await Execute(connection, $"PRAGMA user_version = {step + 1};", cancellationToken, transaction);
            await transaction.CommitAsync(cancellationToken);
        }
        await Execute(connection, $"UPDATE turns SET status = '{TurnStatus.Interrupted}', error = 'the server stopped before the answer was complete' WHERE status = '{TurnStatus.Running}';",
            cancellationToken);
    }

    public async Task<ConversationSummary> CreateAsync(string title, CancellationToken cancellationToken = default)
    {
        string id = NewId();
        string now = Now();
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await Execute(connection, "INSERT INTO conversations (id, title, created_at, updated_at) VALUES ($id, $title, $now, $now);", cancellationToken, null,
            ("$id", id), ("$title", title), ("$now", now));
        return new ConversationSummary(id, title, Parse(now), Parse(now), 0);
    }

    public async Task<IReadOnlyList<ConversationSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT c.id, c.title, c.created_at, c.updated_at, (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id)
            FROM conversations c ORDER BY c.updated_at DESC;
            """;
        var list = new List<ConversationSummary>();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new ConversationSummary(reader.GetString(0), reader.GetString(1), Parse(reader.GetString(2)), Parse(reader.GetString(3)), reader.GetInt32(4)));
        }
        return list;
    }

    public async Task<Conversation?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await using SqliteCommand head = connection.CreateCommand();
        head.CommandText = "SELECT title, created_at, updated_at FROM conversations WHERE id = $id;";
        head.Parameters.AddWithValue("$id", id);
        string title, created, updated;
        await using (SqliteDataReader reader = await head.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }
            (title, created, updated) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
        }
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, seq, question, image_ids, task, answer, answer_tokens, status, error, details, created_at, completed_at
            FROM turns WHERE conversation_id = $id ORDER BY seq;
            """;
        command.Parameters.AddWithValue("$id", id);
        var turns = new List<ConversationTurn>();
        await using (SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                turns.Add(new ConversationTurn
                {
                    Id = reader.GetString(0),
                    Sequence = reader.GetInt32(1),
                    Question = reader.GetString(2),
                    ImageIds = JsonSerializer.Deserialize<string[]>(reader.GetString(3), Json) ?? [],
                    Task = reader.GetString(4),
                    Answer = reader.GetString(5),
                    AnswerTokens = JsonSerializer.Deserialize<int[]>(reader.GetString(6), Json) ?? [],
                    Status = reader.GetString(7),
                    Error = reader.IsDBNull(8) ? null : reader.GetString(8),
                    Details = reader.IsDBNull(9) ? null : JsonSerializer.Deserialize<AnswerDetails>(reader.GetString(9), Json),
                    CreatedAt = Parse(reader.GetString(10)),
                    CompletedAt = reader.IsDBNull(11) ? null : Parse(reader.GetString(11)),
                });
            }
        }
        return new Conversation(id, title, Parse(created), Parse(updated), turns);
    }

    public async Task<bool> RenameAsync(string id, string title, CancellationToken cancellationToken = default)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        return await Execute(connection, "UPDATE conversations SET title = $title, updated_at = $now WHERE id = $id;", cancellationToken, null,
            ("$id", id), ("$title", title), ("$now", Now())) > 0;
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        return await Execute(connection, "DELETE FROM conversations WHERE id = $id;", cancellationToken, null, ("$id", id)) > 0;
    }

    /// <summary>Records a question before it is answered, so that nothing is lost if the answer never completes.</summary>
    public async Task<ConversationTurn> AddTurnAsync(string conversationId, string question, IReadOnlyList<string> imageIds, string task,
        CancellationToken cancellationToken = default)
    {
        var turn = new ConversationTurn { Id = NewId(), Question = question, ImageIds = imageIds, Task = task, CreatedAt = Parse(Now()) };
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        long sequence = (long)(await Scalar(connection, "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE conversation_id = $c;", cancellationToken, transaction,
            ("$c", conversationId)))!;
        await Execute(connection, """
            INSERT INTO turns (id, conversation_id, seq, question, image_ids, task, status, created_at)
            VALUES ($id, $c, $seq, $question, $images, $task, $status, $now);
            UPDATE conversations SET updated_at = $now WHERE id = $c;
            """, cancellationToken, transaction,
            ("$id", turn.Id), ("$c", conversationId), ("$seq", sequence), ("$question", question), ("$images", JsonSerializer.Serialize(imageIds, Json)),
            ("$task", task), ("$status", TurnStatus.Running), ("$now", turn.CreatedAt.ToString("O", CultureInfo.InvariantCulture)));
        await transaction.CommitAsync(cancellationToken);
        return turn with { Sequence = (int)sequence };
    }

    /// <summary>Stores how a turn ended: its answer (complete or as far as it got), tokens, status and details.</summary>
    public async Task CompleteTurnAsync(string turnId, string answer, IReadOnlyList<int> tokens, string status, AnswerDetails? details, string? error,
        CancellationToken cancellationToken = default)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await Execute(connection, """
            UPDATE turns SET answer = $answer, answer_tokens = $tokens, status = $status, details = $details, error = $error, completed_at = $now WHERE id = $id;
            UPDATE conversations SET updated_at = $now WHERE id = (SELECT conversation_id FROM turns WHERE id = $id);
            """, cancellationToken, null,
            ("$id", turnId), ("$answer", answer), ("$tokens", JsonSerializer.Serialize(tokens, Json)), ("$status", status),
            ("$details", details is null ? DBNull.Value : JsonSerializer.Serialize(details, Json)), ("$error", (object?)error ?? DBNull.Value), ("$now", Now()));
    }

    public async Task DeleteTurnAsync(string turnId, CancellationToken cancellationToken = default)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await Execute(connection, "DELETE FROM turns WHERE id = $id;", cancellationToken, null, ("$id", turnId));
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await Execute(connection, "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;", cancellationToken);
        return connection;
    }

    private static async Task<int> Execute(SqliteConnection connection, string sql, CancellationToken cancellationToken, SqliteTransaction? transaction = null,
        params (string Name, object Value)[] parameters)
    {
        await using SqliteCommand command = Command(connection, sql, transaction, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> Scalar(SqliteConnection connection, string sql, CancellationToken cancellationToken, SqliteTransaction? transaction = null,
        params (string Name, object Value)[] parameters)
    {
        await using SqliteCommand command = Command(connection, sql, transaction, parameters);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, SqliteTransaction? transaction, (string Name, object Value)[] parameters)
    {
        SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }

    private static string NewId() => Guid.CreateVersion7().ToString("N");

    private static string Now() => DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
