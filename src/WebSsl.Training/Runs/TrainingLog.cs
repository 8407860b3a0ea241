using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;

namespace WebSsl.Training.Runs;

/// <summary>
/// train-log.jsonl (one line per step and per validation) and loss-curve.svg in the output folder. On resume the log is
/// cut back to the checkpoint's step, so a resumed run's log reads exactly like an uninterrupted one.
/// </summary>
public sealed class TrainingLog
{
    public const string LogFile = "train-log.jsonl";
    public const string CurveFile = "loss-curve.svg";

    private readonly string _output;
    private readonly List<(int Step, double Loss)> _train = [];
    private readonly List<(int Step, double Loss)> _validation = [];

    public TrainingLog(string output, int resumeStep)
    {
        _output = output;
        string path = Path.Combine(output, LogFile);
        var kept = new List<string>();
        if (File.Exists(path))
        {
            foreach (string line in File.ReadLines(path))
            {
                JsonNode? node;
                try
                {
                    node = JsonNode.Parse(line);
                }
                catch (JsonException)
                {
                    continue; // a line cut by a crash
                }
                int step = node?["step"]?.GetValue<int>() ?? int.MaxValue;
                if (step > resumeStep)
                {
                    continue;
                }
                kept.Add(line);
                if (node!["type"]?.GetValue<string>() == "validation")
                {
                    _validation.Add((step, node["val_loss"]!.GetValue<double>()));
                }
                else if (node["loss"] is JsonNode loss)
                {
                    _train.Add((step, loss.GetValue<double>()));
                }
            }
        }
        File.WriteAllLines(path, kept);
    }

    public IReadOnlyList<(int Step, double Loss)> TrainLosses => _train;

    public void Step(int step, double epoch, double loss, double learningRate, double gradNorm, double samplesPerSecond, double elapsedSeconds)
    {
        _train.Add((step, loss));
        Append(new JsonObject
        {
            ["type"] = "train",
            ["step"] = step,
            ["epoch"] = Math.Round(epoch, 4),
            ["loss"] = loss,
            ["lr"] = learningRate,
            ["grad_norm"] = gradNorm,
            ["samples_per_second"] = Math.Round(samplesPerSecond, 3),
            ["elapsed_s"] = Math.Round(elapsedSeconds, 3),
        });
    }

    public void Validation(ValidationResult result)
    {
        _validation.Add((result.Step, result.Loss));
        Append(new JsonObject
        {
            ["type"] = "validation",
            ["step"] = result.Step,
            ["val_loss"] = result.Loss,
            ["val_exact_match"] = result.ExactMatch,
            ["val_relaxed_accuracy"] = result.RelaxedAccuracy,
            ["records"] = result.Records,
        });
    }

    public void Note(int step, string message) => Append(new JsonObject { ["type"] = "note", ["step"] = step, ["message"] = message });

    /// <summary>Writes the loss curve (training loss per step, validation loss at its steps) as SVG.</summary>
    public void WriteCurve()
    {
        var model = new PlotModel { Title = "Projector training loss" };
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "step" });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "loss" });
        var train = new LineSeries { Title = "train", StrokeThickness = 1 };
        train.Points.AddRange(_train.Select(p => new DataPoint(p.Step, p.Loss)));
        var validation = new LineSeries { Title = "validation", StrokeThickness = 2, MarkerType = MarkerType.Circle };
        validation.Points.AddRange(_validation.Select(p => new DataPoint(p.Step, p.Loss)));
        model.Series.Add(train);
        model.Series.Add(validation);
        string path = Path.Combine(_output, CurveFile);
        using (var stream = File.Create(path + ".partial"))
        {
            new SvgExporter { Width = 800, Height = 450 }.Export(model, stream);
        }
        File.Move(path + ".partial", path, overwrite: true);
    }

    private void Append(JsonObject entry) =>
        File.AppendAllText(Path.Combine(_output, LogFile), entry.ToJsonString() + "\n");

    public static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
