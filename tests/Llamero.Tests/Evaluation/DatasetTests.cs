using Llamero.Evaluation;

namespace Llamero.Tests.Evaluation;

/// <summary>The three dataset formats: faithful samples parse, malformed lines are errors naming the line.</summary>
public class DatasetTests
{
    internal const string Hellaswag =
        "Removing ice from car: Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles. then\n" +
        "3\n" +
        ", the man adds wax to the windshield and cuts it.\n" +
        ", a person board a ski lift, while two men supporting the head of the person wearing winter clothes snow as the we girls sled.\n" +
        ", the man puts on a christmas coat, knitted with netting.\n" +
        ", the man continues removing the snow on his car.\n" +
        "Baking cookies: A girl is in the kitchen with her mom. She\n" +
        "0\n" +
        "puts the cookies in the oven and waits.\n" +
        "jumps over the moon and flies to the sea.\n" +
        "reads a book about trucks on the roof.\n" +
        "sings a song to the blue car in the rain.\n";

    internal const string Winogrande =
        "0,Sarah was a much better surgeon than Maria so _ always got the easier cases.,Sarah,Maria,2\n" +
        "1,Sarah was a much better surgeon than Maria so _ always got the harder cases.,Sarah,Maria,1\n" +
        "2,\"The ball did not fit in the box, because _ was too big.\",ball,box,1\n" +
        "3,Lily gave Tom her toy because _ was sad.,Lily,Tom,2\n";

    internal const string Jsonl =
        "{\"question\": \"Lily went to the park. She\", \"choices\": [\"played with her ball.\", \"ate the blue sky.\"], \"label\": 0}\n" +
        "{\"context\": \"Tom was very tired, so he\", \"endings\": [\"went to the moon.\", \"sang to the car.\", \"went to bed.\"], \"gold\": 2}\n" +
        "\n" +
        "{\"question\": \"Which is a color?\", \"choices\": {\"text\": [\"dog\", \"red\", \"run\", \"big\"], \"label\": [\"A\", \"B\", \"C\", \"D\"]}, \"answerKey\": \"B\"}\n";

    [Fact]
    public void Hellaswag_reads_six_lines_per_task()
    {
        var items = HellaswagDataset.Parse(Hellaswag, "hs.txt");
        Assert.Equal(2, items.Count);
        Assert.Equal(3, items[0].Gold);
        Assert.Equal(7, items[1].Line);
        Assert.Equal("puts the cookies in the oven and waits.", items[1].Endings[0]);
    }

    [Fact]
    public void Hellaswag_errors_name_the_line()
    {
        var shortTask = Assert.Throws<EvaluationException>(() => HellaswagDataset.Parse(Hellaswag + "extra context\n0\n", "hs.txt"));
        Assert.Contains("line 13", shortTask.Message);
        var badGold = Assert.Throws<EvaluationException>(() => HellaswagDataset.Parse(Hellaswag.Replace("\n0\n", "\n7\n"), "hs.txt"));
        Assert.Contains("hs.txt: line 8: the gold ending index must be 0-3, got '7'", badGold.Message);
    }

    [Fact]
    public void Winogrande_reads_llama_cpp_csv_with_quoted_sentences_and_a_header()
    {
        var items = WinograndeDataset.Parse("index,sentence,option1,option2,answer\n" + Winogrande, "wg.csv");
        Assert.Equal(4, items.Count);
        Assert.Equal("Sarah was a much better surgeon than Maria so ", items[0].First);
        Assert.Equal(" always got the easier cases.", items[0].Second);
        Assert.Equal(2, items[0].Answer);
        Assert.Equal("The ball did not fit in the box, because ", items[2].First);
        Assert.Equal(" was too big.", items[2].Second);
        Assert.Equal(["ball", "box"], items[2].Choices);
        Assert.Equal(4, items[2].Line);
    }

    [Theory]
    [InlineData("4,No blank here.,a,b,1\n", "line 5: the sentence has no '_'")]
    [InlineData("4,A _ here.,a,b,3\n", "line 5: the answer must be 1 or 2, got '3'")]
    [InlineData("4,too few,fields\n", "line 5: expected 5 comma-separated fields")]
    public void Winogrande_errors_name_the_line(string bad, string expected) =>
        Assert.Contains(expected, Assert.Throws<EvaluationException>(() => WinograndeDataset.Parse(Winogrande + bad, "wg.csv")).Message);

    [Fact]
    public void Jsonl_reads_question_context_choices_endings_labels_and_letter_keys()
    {
        var items = MultipleChoiceDataset.Parse(Jsonl, "mc.jsonl");
        Assert.Equal(3, items.Count);
        Assert.Equal(0, items[0].Gold);
        Assert.Equal("Tom was very tired, so he", items[1].Question);
        Assert.Equal(2, items[1].Gold);
        Assert.Equal(4, items[2].Line);
        Assert.Equal(1, items[2].Gold);
        Assert.Equal(["dog", "red", "run", "big"], items[2].Choices);
    }

    [Theory]
    [InlineData("{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"label\": 5}", "line 5: the answer index 5 is outside the 2 choices")]
    [InlineData("{\"question\": \"q\", \"choices\": [\"a\"], \"label\": 0}", "line 5: a task needs at least 2 choices")]
    [InlineData("{\"choices\": [\"a\", \"b\"], \"label\": 0}", "line 5: no prompt")]
    [InlineData("{\"question\": \"q\", \"label\": 0}", "line 5: no candidates")]
    [InlineData("{\"question\": \"q\", \"choices\": [\"a\", \"b\"]}", "line 5: no answer")]
    [InlineData("{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"label\": 0", "line 5: not a JSON object")]
    public void Jsonl_errors_name_the_line(string bad, string expected) =>
        Assert.Contains(expected, Assert.Throws<EvaluationException>(() => MultipleChoiceDataset.Parse(Jsonl + bad + "\n", "mc.jsonl")).Message);

    [Fact]
    public void Continuation_candidates_are_scored_after_their_common_prefix()
    {
        var task = ChoiceTask.FromContinuations(1, 0, [[1, 5, 6, 7, 8], [1, 5, 6, 9], [1, 5, 2, 3]]);
        Assert.Equal(2, task.CommonPrefix());
        Assert.All(task.Candidates, c => Assert.Equal(2, c.From));
        Assert.Equal([5, 4, 4], task.Candidates.Select(c => c.To));
    }

    [Fact]
    public void Winogrande_scores_the_words_after_the_blank_without_the_full_stop()
    {
        // Tokens: one per word; "." its own token. Context "A B _ C D E F ." with choices X / Y.
        static int[] Tokenize(string s) => [1, .. s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.GetHashCode() & 0xFFFF)];
        var item = new WinograndeDataset.Item(1, "A B ", " C D E F .", ["X", "Y"], 2);
        var task = WinograndeDataset.ToTask(item, Tokenize);
        Assert.Equal(1, task.Gold);
        // [BOS A B X C D E F .]: the choice ends at 4 tokens; scored C D E F (indices 4..7), not the final '.'.
        Assert.All(task.Candidates, c => Assert.Equal((4, 8), (c.From, c.To)));
        // A short tail (≤ 3 tokens after the prefix) scores from the first differing token instead.
        var shortTail = WinograndeDataset.ToTask(item with { Second = " C ." }, Tokenize);
        Assert.All(shortTail.Candidates, c => Assert.Equal((3, 5), (c.From, c.To)));
    }

    [Fact]
    public void Task_selection_follows_libstdcxx_mt19937_draws()
    {
        // Expected orders printed by g++ 12 (libstdc++) with std::mt19937(1), as llama-perplexity draws them.
        var items = Enumerable.Range(0, 10).ToArray();
        Assert.Equal([4, 9, 6, 8, 0, 1, 3, 7, 2, 5], TaskSelection.HellaswagOrder(items, 10));
        Assert.Equal([4, 9, 6], TaskSelection.HellaswagOrder(items, 3));
        Assert.Equal([2, 5, 3, 4], TaskSelection.RandomSubset(Enumerable.Range(0, 7).ToArray(), 4));
        Assert.Equal(Enumerable.Range(0, 7), TaskSelection.RandomSubset(Enumerable.Range(0, 7).ToArray(), 0));
        var rng = new Llamero.Sampling.Mt19937(1);
        var draws = new List<uint>();
        for (var left = 10042u; left > 10037; left--)
            draws.Add(TaskSelection.UniformIndex(rng, left));
        Assert.Equal([4187u, 10012u, 7232u, 9361u, 1u], draws);
    }
}
