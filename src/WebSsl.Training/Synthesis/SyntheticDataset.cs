using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using SkiaSharp;

namespace WebSsl.Training.Synthesis;

/// <summary>
/// Standard: the full variety (every kind, realistic sizes). Demo: 140 x 140 bar and line charts and short documents with
/// large text, for the offline demo assistant that trains from scratch in minutes (see <see cref="DemoRenderer"/>).
/// </summary>
public enum SynthProfile
{
    Standard,
    Demo,
}

/// <summary>
/// What to generate. Null sizes take each kind's own (charts and tables 512x384, documents 448x576, receipts 320x512,
/// pages 1240x1754 = A4 at 150 dpi; in the demo profile 140x140, pages 224x336).
/// </summary>
public sealed record SynthOptions
{
    public SynthKind Kind { get; init; } = SynthKind.Mixed;
    public SynthProfile Profile { get; init; } = SynthProfile.Standard;

    /// <summary>
    /// One multi-turn record per image (all its questions as turns, as LLaVA's instruction data is) instead of one record
    /// per question: training encodes each image once for all its answers. Evaluation wants one record per question.
    /// </summary>
    public bool Conversations { get; init; }

    /// <summary>
    /// Add a last turn "Describe the image." answered with everything drawn (title, every mark with its value, the total):
    /// dense supervision in the manner of LLaVA's caption pretraining. Category "caption".
    /// </summary>
    public bool Captions { get; init; }
    public int Count { get; init; } = 100;

    /// <summary>
    /// Also bind every N consecutive pages into one PDF (documents/, listed in documents.json with each question's page),
    /// at the resolution the pages were drawn for, so rendering a page back gives its image's size (full pages within a pixel). Pages only.
    /// </summary>
    public int? PdfPages { get; init; }
    public int Seed { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }

    internal void Validate()
    {
        if (Count < 1 || Count > 1_000_000)
        {
            throw new BadInputException($"--count is {Count}; it must be between 1 and 1000000.");
        }
        int smallest = Profile == SynthProfile.Demo ? 96 : 128;
        if (Width < smallest || Width > 4096 || Height < smallest || Height > 4096)
        {
            throw new BadInputException($"--size {Width}x{Height}: each side must be between {smallest} and 4096 pixels.");
        }
        if (PdfPages is not null && (Kind != SynthKind.Page || PdfPages is < 1 or > 100))
        {
            throw new BadInputException($"--pdf-pages {PdfPages}: PDFs are made of pages (--kind page), 1 to 100 per document.");
        }
        if (Profile == SynthProfile.Demo && Kind is not (SynthKind.Bar or SynthKind.Line or SynthKind.Document or SynthKind.Mixed or SynthKind.Page))
        {
            throw new BadInputException($"the demo profile draws bar, line and document images (or a mix of them) and pages, not {Kind.ToString().ToLowerInvariant()}.");
        }
    }
}

/// <summary>What <see cref="SyntheticDataset.Write"/> produced.</summary>
public sealed record SynthSummary(string DataFile, int Images, int Questions, IReadOnlyDictionary<string, int> Categories, IReadOnlyDictionary<string, int> Kinds);

/// <summary>
/// Chart and document VQA data with exactly known answers: images rendered with SkiaSharp and the Inter font, questions
/// of tagged categories, LLaVA JSON next to them. Each image is drawn from its own Random seeded from (seed, index), so
/// the same seed gives the same bytes, and any image can be made again alone.
/// </summary>
public static class SyntheticDataset
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
        // Readable text ("<image>", "€", "—") rather than \u escapes; these files are data, never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static SynthKind ParseKind(string text) => Enum.TryParse(text, ignoreCase: true, out SynthKind kind) && !int.TryParse(text, out _)
        ? kind
        : throw new BadInputException($"kind '{text}' is not known; use bar, line, pie, table, document, receipt, page or mixed.");

    /// <summary>Renders image <paramref name="index"/> of a dataset.</summary>
    public static SyntheticImage Render(SynthOptions options, int index)
    {
        var random = new Random(SampleSeed(options.Seed, index));
        if (options.Profile == SynthProfile.Demo)
        {
            return RenderDemo(options, index, random);
        }
        SynthKind kind = options.Kind == SynthKind.Mixed ? (SynthKind)random.Next((int)SynthKind.Mixed) : options.Kind;
        (int defaultWidth, int defaultHeight) = kind switch
        {
            SynthKind.Document => (448, 576),
            SynthKind.Page => (PageRenderer.PageWidth, PageRenderer.PageHeight),
            SynthKind.Receipt => (320, 512),
            _ => (512, 384),
        };
        int width = options.Width ?? defaultWidth, height = options.Height ?? defaultHeight;
        SKColor background = kind is SynthKind.Receipt ? SKColors.White : random.Pick(SynthContent.Backgrounds);
        using var canvas = new SynthCanvas(width, height, background);
        List<SynthQuestion> questions = kind switch
        {
            SynthKind.Bar => ChartRenderer.Bar(canvas, random),
            SynthKind.Line => ChartRenderer.Line(canvas, random),
            SynthKind.Pie => ChartRenderer.Pie(canvas, random),
            SynthKind.Table => TableRenderer.Render(canvas, random),
            SynthKind.Document => DocumentRenderer.Document(canvas, random),
            SynthKind.Page => PageRenderer.Page(canvas, random, demo: false),
            _ => DocumentRenderer.Receipt(canvas, random),
        };
        string id = $"{kind.ToString().ToLowerInvariant()}-{index:D6}";
        bool scanned = kind is SynthKind.Document or SynthKind.Receipt or SynthKind.Page && random.Next(10) < 6;
        if (!scanned)
        {
            return new SyntheticImage(id, kind, "png", Encode(canvas.Bitmap, SKEncodedImageFormat.Png, 100), width, height, (uint)background, questions, canvas.Layout, null);
        }
        var scan = new ScanEffects(Math.Round((random.NextDouble() * 2 - 1) * 2.5, 2), random.Next(4, 14), random.Next(55, 86));
        using SKBitmap scannedBitmap = Scan(canvas.Bitmap, scan, background, random);
        return new SyntheticImage(id, kind, "jpg", Encode(scannedBitmap, SKEncodedImageFormat.Jpeg, scan.JpegQuality), width, height, (uint)background, questions,
            canvas.Layout, scan);
    }

    private static SyntheticImage RenderDemo(SynthOptions options, int index, Random random)
    {
        SynthKind kind = options.Kind == SynthKind.Mixed ? random.Pick([SynthKind.Bar, SynthKind.Line, SynthKind.Document]) : options.Kind;
        bool page = kind == SynthKind.Page;
        int width = options.Width ?? (page ? PageRenderer.DemoWidth : 140), height = options.Height ?? (page ? PageRenderer.DemoHeight : 140);
        SKColor background = random.Pick(SynthContent.Backgrounds);
        using var canvas = new SynthCanvas(width, height, background);
        List<SynthQuestion> questions = kind switch
        {
            SynthKind.Bar => DemoRenderer.Bar(canvas, random),
            SynthKind.Line => DemoRenderer.Line(canvas, random),
            SynthKind.Page => PageRenderer.Page(canvas, random, demo: true),
            _ => DemoRenderer.Document(canvas, random),
        };
        string id = $"{kind.ToString().ToLowerInvariant()}-{index:D6}";
        if (kind is not (SynthKind.Document or SynthKind.Page) || random.Next(2) == 0)
        {
            return new SyntheticImage(id, kind, "png", Encode(canvas.Bitmap, SKEncodedImageFormat.Png, 100), width, height, (uint)background, questions, canvas.Layout, null);
        }
        // Half the documents and pages look scanned, gently: a small tilt, grain and JPEG.
        var scan = new ScanEffects(Math.Round((random.NextDouble() * 2 - 1) * 1.0, 2), random.Next(3, 9), random.Next(70, 91));
        using SKBitmap scannedBitmap = Scan(canvas.Bitmap, scan, background, random);
        return new SyntheticImage(id, kind, "jpg", Encode(scannedBitmap, SKEncodedImageFormat.Jpeg, scan.JpegQuality), width, height, (uint)background, questions,
            canvas.Layout, scan);
    }

    /// <summary>
    /// Writes images/, data.json (LLaVA: one record per question, with "category" and "kind"), layout.jsonl (what was
    /// drawn where, per image) and manifest.json into <paramref name="directory"/>. Files are written whole, then renamed.
    /// </summary>
    public static SynthSummary Write(SynthOptions options, string directory, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        string images = Directory.CreateDirectory(Path.Combine(directory, "images")).FullName;
        var records = new List<object>();
        var categories = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        string layoutPath = Path.Combine(directory, "layout.jsonl");
        var documents = new SynthDocuments(directory, options);
        using (var layout = new StreamWriter(layoutPath + ".partial"))
        {
            // Images are independent: render a block on every core, then write it in order.
            const int block = 64;
            var rendered = new SyntheticImage[block];
            for (int i = 0; i < options.Count; i++)
            {
                if (i % block == 0)
                {
                    int start = i;
                    Parallel.For(start, Math.Min(options.Count, start + block), new ParallelOptions { CancellationToken = cancellationToken },
                        j => rendered[j - start] = Render(options, j));
                }
                SyntheticImage image = rendered[i % block];
                string file = $"{image.Id}.{image.Format}";
                WriteWhole(Path.Combine(images, file), image.Bytes);
                string relative = $"images/{file}";
                List<SynthQuestion> asked = [.. image.Questions];
                if (options.Captions)
                {
                    asked.Add(new SynthQuestion(SynthCaption.Question, SynthCaption.Of(image), SynthCaption.Category));
                }
                foreach (SynthQuestion question in asked)
                {
                    categories[question.Category] = categories.GetValueOrDefault(question.Category) + 1;
                }
                string kind = image.Kind.ToString().ToLowerInvariant();
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
                if (options.Conversations)
                {
                    records.Add(new
                    {
                        id = image.Id,
                        image = relative,
                        category = "conversation",
                        kind,
                        conversations = asked.SelectMany((question, q) => Turn(question, first: q == 0)).ToArray(),
                    });
                }
                else
                {
                    records.AddRange(asked.Select((question, q) => new
                    {
                        id = $"{image.Id}-q{q + 1}",
                        image = relative,
                        category = question.Category,
                        kind,
                        conversations = Turn(question, first: true),
                    }));
                }
                layout.WriteLine(JsonSerializer.Serialize(new
                {
                    id = image.Id,
                    image = relative,
                    kind = image.Kind,
                    width = image.Width,
                    height = image.Height,
                    background = image.Background,
                    scan = image.Scan,
                    elements = image.Layout,
                }, Json));
                documents.Add(image, relative);
                progress?.Report(i + 1);
            }
        }
        documents.Finish();
        File.Move(layoutPath + ".partial", layoutPath, overwrite: true);
        string dataFile = Path.Combine(directory, "data.json");
        WriteWhole(dataFile, JsonSerializer.SerializeToUtf8Bytes(records, Indented));
        var summary = new SynthSummary(dataFile, options.Count, categories.Values.Sum(), categories, kinds);
        WriteWhole(Path.Combine(directory, "manifest.json"), JsonSerializer.SerializeToUtf8Bytes(new
        {
            generator = "webssl synth",
            kind = options.Kind.ToString().ToLowerInvariant(),
            profile = options.Profile.ToString().ToLowerInvariant(),
            conversations = options.Conversations,
            captions = options.Captions,
            count = options.Count,
            seed = options.Seed,
            size = options.Width is null ? (options.Profile == SynthProfile.Demo && options.Kind != SynthKind.Page ? "140x140" : "per kind") : $"{options.Width}x{options.Height}",
            images = summary.Images,
            questions = summary.Questions,
            pdf_pages = options.PdfPages,
            categories,
            kinds,
        }, Indented));
        return summary;
    }

    /// <summary>A question and its answer as LLaVA turns; the first question of a record carries the image marker.</summary>
    private static object[] Turn(SynthQuestion question, bool first) =>
    [
        new { from = "human", value = first ? $"<image>\n{question.Question}" : question.Question },
        new { from = "gpt", value = question.Answer },
    ];

    /// <summary>SplitMix64 of (seed, index): a stable per-image seed (HashCode is randomized per process).</summary>
    public static int SampleSeed(int seed, int index)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    /// <summary>A scanner's work: a slight rotation on paper, sensor noise, and JPEG compression (applied when encoding).</summary>
    private static SKBitmap Scan(SKBitmap page, ScanEffects scan, SKColor paper, Random random)
    {
        var result = new SKBitmap(page.Info);
        using (var canvas = new SKCanvas(result))
        using (var paint = new SKPaint { IsAntialias = true })
        using (SKImage source = SKImage.FromBitmap(page))
        {
            canvas.Clear(paper);
            canvas.RotateDegrees((float)scan.RotationDegrees, page.Width / 2f, page.Height / 2f);
            canvas.DrawImage(source, 0, 0, new SKSamplingOptions(SKFilterMode.Linear), paint);
        }
        Span<byte> pixels = result.GetPixelSpan();
        for (int i = 0; i < pixels.Length; i += 4)
        {
            int noise = random.Next(-scan.NoiseAmplitude, scan.NoiseAmplitude + 1);
            for (int ch = 0; ch < 3; ch++)
            {
                pixels[i + ch] = (byte)Math.Clamp(pixels[i + ch] + noise, 0, 255);
            }
        }
        return result;
    }

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality)
    {
        using SKImage image = SKImage.FromBitmap(bitmap);
        using SKData data = image.Encode(format, quality);
        return data.ToArray();
    }

    internal static void WriteWhole(string path, byte[] bytes)
    {
        string partial = path + ".partial";
        File.WriteAllBytes(partial, bytes);
        File.Move(partial, path, overwrite: true);
    }
}
