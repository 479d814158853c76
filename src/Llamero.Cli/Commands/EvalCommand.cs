using System.CommandLine;
using System.Globalization;
using Llamero.Evaluation;
using Llamero.Gguf;
using Llamero.Hub;

namespace Llamero.Cli.Commands;

/// <summary><c>llamero eval hellaswag|winogrande|multiple-choice -m MODEL -f DATA [--tasks N]</c>: multiple-choice accuracy.</summary>
internal static class EvalCommand
{
    private static readonly string[] Kinds = ["hellaswag", "winogrande", "multiple-choice"];

    public static Command Create()
    {
        var kind = new Argument<string>("task") { Description = "hellaswag (llama.cpp's 6-line text), winogrande (llama.cpp's CSV) or multiple-choice (JSONL, or llama.cpp's binary --multiple-choice file)" };
        kind.AcceptOnlyFromAmong(Kinds);
        var model = new Option<string>("--model", "-m") { Description = "GGUF model (path or hf:OWNER/NAME/FILE)", Required = true };
        var file = new Option<string>("--file", "-f") { Description = "Dataset file", Required = true };
        var tasks = new Option<int>("--tasks") { Description = "Evaluate this many tasks, picked as llama-perplexity picks them (default: all)" };
        var context = new Option<int>("--ctx-size", "-c") { Description = "Context size (the longest candidate must fit)", DefaultValueFactory = _ => 512 };
        var batch = new Option<int>("--batch-size", "-b") { Description = "Tokens per evaluation call", DefaultValueFactory = _ => 512 };

        var cacheTypes = new Inference.CacheTypeArguments();
        var repack = new Inference.RepackArgument();
        var command = new Command("eval", "Multiple-choice accuracy (acc by total log-likelihood, acc_norm by log-likelihood per token) with standard errors.")
        {
            kind, model, file, tasks, context, batch, cacheTypes.Keys, cacheTypes.Values, repack.NoRepack,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var path = parseResult.GetValue(file)!;
                var taskCount = parseResult.GetValue(tasks);
                var caches = cacheTypes.Read(parseResult);
                // Read the whole dataset before loading the model: a bad line fails at once.
                Func<Func<string, int[]>, IReadOnlyList<ChoiceTask>> prepare = parseResult.GetValue(kind) switch
                {
                    "hellaswag" => Prepare(TaskSelection.HellaswagOrder(HellaswagDataset.Parse(File.ReadAllText(path), path), taskCount > 0 ? taskCount : int.MaxValue), HellaswagDataset.ToTask),
                    "winogrande" => Prepare(TaskSelection.RandomSubset(WinograndeDataset.Parse(File.ReadAllText(path), path), taskCount), WinograndeDataset.ToTask),
                    _ => Prepare(TaskSelection.RandomSubset(MultipleChoiceDataset.Load(File.ReadAllBytes(path), path), taskCount), MultipleChoiceDataset.ToTask),
                };
                using var evalModel = EvaluationModel.Open(parseResult.GetValue(model)!, load: repack.Read(parseResult));
                var choiceTasks = prepare(evalModel.Tokenize);
                using var session = evalModel.Model.CreateSession(parseResult.GetValue(context), caches);
                var scorer = new ChoiceScorer(session, parseResult.GetValue(batch));
                var tracker = new AccuracyTracker();
                error.WriteLine($"eval: {choiceTasks.Count} {parseResult.GetValue(kind)} tasks from {path}");
                output.WriteLine("task\tacc\t\t\tacc_norm");
                foreach (var task in choiceTasks)
                {
                    tracker.Add(scorer.Score(task));
                    output.WriteLine(tracker.Line());
                    output.Flush();
                }
                var (acc, accErr) = tracker.Accuracy;
                var (norm, normErr) = tracker.AccuracyNormalized;
                var (chance, chanceErr) = tracker.RandomChance;
                output.WriteLine();
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Final ({tracker.Count} tasks): acc = {acc:F4} +/- {accErr:F4} %, acc_norm = {norm:F4} +/- {normErr:F4} %, random chance = {chance:F4} +/- {chanceErr:F4} %"));
                return 0;
            }
            catch (Exception e) when (e is EvaluationException or GgufFormatException or HubException or IOException or InvalidDataException or ArgumentException)
            {
                error.WriteLine("error: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static Func<Func<string, int[]>, IReadOnlyList<ChoiceTask>> Prepare<T>(IReadOnlyList<T> items, Func<T, Func<string, int[]>, ChoiceTask> toTask) =>
        tokenize => items.Select(item => toTask(item, tokenize)).ToList();
}
