using WebSsl.Vision.Images;

namespace WebSsl.Training.Data;

/// <summary>The outcome of checking a dataset: the records fit for training and every problem found, with its line.</summary>
public sealed record ValidationReport(string File, int TotalRecords, IReadOnlyList<VqaRecord> Valid, IReadOnlyList<TrainingSequence> Sequences,
    IReadOnlyList<DatasetProblem> Problems)
{
    public int Dropped => TotalRecords - Valid.Count;
}

/// <summary>
/// Checks every record before training: unreadable records, missing or corrupt images (content-checked, limits from the
/// header), <c>&lt;image&gt;</c> count against the images, empty answers, and — when a tokenizer is given — sequences
/// longer than the context and records whose answer tokens would all be masked.
/// </summary>
public static class DataValidator
{
    /// <param name="transform">Applied to each record before checking (e.g. adding a system prompt).</param>
    public static ValidationReport Validate(string dataFile, string? imageDirectory, SequenceBuilder? sequences, ImageLimits? limits = null,
        IProgress<int>? progress = null, Func<VqaRecord, VqaRecord>? transform = null)
    {
        var (records, problems) = VqaDataset.Read(dataFile, imageDirectory);
        if (transform is not null)
        {
            records = records.Select(transform).ToList();
        }
        var valid = new List<VqaRecord>();
        var built = new List<TrainingSequence>();
        int total = records.Count + problems.Count;
        int index = 0;
        foreach (VqaRecord record in records)
        {
            progress?.Report(++index);
            string? problem = CheckImages(record, limits) ?? CheckTurns(record);
            TrainingSequence? sequence = null;
            if (problem is null && sequences is not null)
            {
                try
                {
                    sequence = sequences.Build(record);
                    if (built.Count == 0)
                    {
                        sequences.CheckServingAgreement(record, sequence);
                    }
                }
                catch (SequenceException e)
                {
                    problem = e.Message;
                }
            }
            if (problem is null)
            {
                valid.Add(record);
                if (sequence is not null)
                {
                    built.Add(sequence);
                }
            }
            else
            {
                problems.Add(new DatasetProblem(dataFile, record.Line, record.Id, problem));
            }
        }
        return new ValidationReport(dataFile, total, valid, built, problems.OrderBy(p => p.Line).ToList());
    }

    private static string? CheckImages(VqaRecord record, ImageLimits? limits)
    {
        foreach (ImageSource image in record.Images)
        {
            if (image.Path is not null && !File.Exists(image.Path))
            {
                return $"image {image.Label} not found ({image.Path}).";
            }
            try
            {
                ImageLoader.Inspect(image.ReadBytes(), image.Label, limits);
            }
            catch (ImageRejectedException e)
            {
                return $"image {e.Message}";
            }
        }
        return null;
    }

    private static string? CheckTurns(VqaRecord record)
    {
        if (record.ImageMarkers != record.Images.Count)
        {
            return $"{record.ImageMarkers} <image> markers but {record.Images.Count} images.";
        }
        if (!record.Turns.Any(t => t.Role == Language.Prompting.ChatRole.Assistant))
        {
            return "no assistant answer to learn from.";
        }
        return record.Turns.Any(t => t.Role == Language.Prompting.ChatRole.Assistant && t.Text.Trim().Length == 0) ? "an assistant answer is empty." : null;
    }
}
