using WebSsl.Training.Evaluation;

namespace WebSsl.Training.Tests.Evaluation;

/// <summary>The public benchmarks' files, in the layouts they are published in, read as they are.</summary>
public sealed class EvalDatasetTests
{
    [Fact]
    public void ChartQA_test_files_are_read_with_relaxed_accuracy_and_the_png_folder()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Sub("png"));
        File.WriteAllText(dir.File("test_human.json"), """
            [{"imgname": "41699051005347.png", "query": "What is the peak value?", "label": "47"},
             {"imgname": "multi_col_1270.png", "query": "Which year was lowest?", "label": "2016"}]
            """);

        EvalDataset set = EvalDataset.Read(dir.File("test_human.json"));

        Assert.Equal((EvalFormat.ChartQa, EvalMetric.RelaxedAccuracy, 2), (set.Format, set.DefaultMetric, set.Samples.Count));
        EvalSample first = set.Samples[0];
        Assert.Equal(("What is the peak value?", "47", "human"), (first.Question, first.Answers.Single(), first.Category));
        Assert.Equal(Path.Combine(dir.Path, "png", "41699051005347.png"), first.Images.Single().Path);
        Assert.Equal(EvalDataset.ShortAnswerPrompt, set.DefaultPromptSuffix);
    }

    [Fact]
    public void DocVQA_files_are_read_with_anls_and_question_types_as_categories()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("val_v1.0.json"), """
            {"dataset_name": "docvqa", "dataset_split": "val", "dataset_version": "1.0", "data": [
              {"questionId": 49153, "question": "What is the ‘actual’ value per 1000, during the year 1975?", "question_types": ["figure/diagram"],
               "image": "documents/pybv0228_81.png", "docId": 14465, "ucsf_document_id": "pybv0228", "ucsf_document_page_no": "81",
               "answers": ["0.28"], "data_split": "val"}]}
            """);

        EvalDataset set = EvalDataset.Read(dir.File("val_v1.0.json"));

        Assert.Equal((EvalFormat.DocVqa, EvalMetric.Anls), (set.Format, set.DefaultMetric));
        EvalSample sample = Assert.Single(set.Samples);
        Assert.Equal(("49153", "figure/diagram", "0.28"), (sample.Id, sample.Category, sample.Answers.Single()));
        Assert.Equal(Path.Combine(dir.Path, "documents", "pybv0228_81.png"), sample.Images.Single().Path);
    }

    [Fact]
    public void TextVQA_files_are_read_with_vqa_accuracy_and_train_images()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Sub("train_images"));
        File.WriteAllText(dir.File("TextVQA_0.5.1_val.json"), """
            {"dataset_type": "val", "dataset_name": "textvqa", "dataset_version": "0.5.1", "data": [
              {"question": "what is the brand of this camera?", "image_id": "003a8ae2ef43b901", "image_classes": ["Cassette deck"],
               "flickr_original_url": "https://farm2.staticflickr.com/x.jpg", "flickr_300k_url": "https://c5.staticflickr.com/x.jpg",
               "image_width": 1024, "image_height": 664, "answers": ["nous les gosses", "dakota", "clos culombu", "dakota digital", "dakota",
               "dakota", "dakota digital", "dakota digital", "dakota", "dakota"], "question_tokens": ["what", "is"], "question_id": 34602,
               "set_name": "val"}]}
            """);

        EvalDataset set = EvalDataset.Read(dir.File("TextVQA_0.5.1_val.json"));

        Assert.Equal((EvalFormat.TextVqa, EvalMetric.VqaAccuracy), (set.Format, set.DefaultMetric));
        EvalSample sample = Assert.Single(set.Samples);
        Assert.Equal(10, sample.Answers.Count);
        Assert.Equal(Path.Combine(dir.Path, "train_images", "003a8ae2ef43b901.jpg"), sample.Images.Single().Path);
        Assert.Equal(1.0, AnswerScoring.Score(set.DefaultMetric, "Dakota", sample.Answers));
    }

    [Fact]
    public void OCRBench_is_read_with_contains_and_its_types_as_categories()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("OCRBench.json"), """
            [{"dataset_name": "IIIT5K", "id": 0, "image_path": "IIIT5K/3000_1.png", "question": "what is written in the image?",
              "answers": ["CHINA"], "type": "Regular Text Recognition"},
             {"dataset_name": "HME100k", "id": 1, "image_path": "HME100k/a.jpg", "question": "Please write out the expression of the formula in the image using LaTeX format.",
              "answers": "x ^ { 2 }", "type": "Handwritten Mathematical Expression Recognition"}]
            """);

        EvalDataset set = EvalDataset.Read(dir.File("OCRBench.json"), imageDirectory: "/data/OCRBench_Images");

        Assert.Equal((EvalFormat.OcrBench, EvalMetric.Contains, 2), (set.Format, set.DefaultMetric, set.Samples.Count));
        Assert.Equal("Regular Text Recognition", set.Samples[0].Category);
        Assert.Equal(["x ^ { 2 }"], set.Samples[1].Answers);
        Assert.Equal("/data/OCRBench_Images/IIIT5K/3000_1.png", set.Samples[0].Images.Single().Path);
        Assert.Equal("", set.DefaultPromptSuffix);
    }

    [Fact]
    public void Our_llava_json_gives_one_sample_per_question_with_its_category()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("data.json"), """
            [{"id": "bar-1", "image": "images/bar-1.png", "category": "max-min", "conversations": [
               {"from": "human", "value": "<image>\nWhich month is highest?"}, {"from": "gpt", "value": "Mar"},
               {"from": "human", "value": "And lowest?"}, {"from": "gpt", "value": "Jan"}]},
             {"id": "doc-2", "image": "images/doc-2.png", "conversations": [{"from": "human", "value": "<image>\nTotal?"}, {"from": "gpt", "value": "12.50"}]}]
            """);

        EvalDataset set = EvalDataset.Read(dir.File("data.json"));

        Assert.Equal((EvalFormat.Llava, EvalMetric.RelaxedAccuracy), (set.Format, set.DefaultMetric));
        Assert.Equal(["bar-1#1", "bar-1#2", "doc-2"], set.Samples.Select(s => s.Id));
        Assert.Equal(("Which month is highest?", "Mar", "max-min"), (set.Samples[0].Question, set.Samples[0].Answers[0], set.Samples[0].Category));
        Assert.Equal("all", set.Samples[2].Category);
        Assert.Equal(Path.Combine(dir.Path, "images", "bar-1.png"), set.Samples[0].Images.Single().Path);
    }

    [Fact]
    public void A_malformed_public_record_is_reported_and_the_rest_is_read()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("test_augmented.json"), """
            [{"imgname": "a.png", "query": "q1", "label": "1"}, {"imgname": "b.png", "label": "2"}, {"imgname": "c.png", "query": "q3", "label": "3"}]
            """);
        EvalDataset set = EvalDataset.Read(dir.File("test_augmented.json"));
        Assert.Equal(2, set.Samples.Count);
        Assert.Equal("augmented", set.Samples[0].Category);
        Assert.Contains("item 2", Assert.Single(set.Problems).Problem);
    }
}
