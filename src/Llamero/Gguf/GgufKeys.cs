namespace Llamero.Gguf;

/// <summary>Well-known GGUF metadata key names (llama.cpp's spelling). Per-architecture keys take the architecture name.</summary>
public static class GgufKeys
{
    /// <summary><c>general.*</c> keys.</summary>
    public static class General
    {
        public const string Architecture = "general.architecture";
        public const string QuantizationVersion = "general.quantization_version";
        public const string Alignment = "general.alignment";
        public const string Name = "general.name";
        public const string Author = "general.author";
        public const string Version = "general.version";
        public const string Organization = "general.organization";
        public const string BaseName = "general.basename";
        public const string Finetune = "general.finetune";
        public const string Description = "general.description";
        public const string SizeLabel = "general.size_label";
        public const string License = "general.license";
        public const string Url = "general.url";
        public const string Source = "general.source.url";
        public const string FileType = "general.file_type";
    }

    /// <summary>Per-architecture keys: <c>{arch}.context_length</c> and friends. <c>Llama</c> holds the llama spelling.</summary>
    public static class Arch
    {
        public static string VocabSize(string arch) => arch + ".vocab_size";
        public static string ContextLength(string arch) => arch + ".context_length";
        public static string EmbeddingLength(string arch) => arch + ".embedding_length";
        public static string BlockCount(string arch) => arch + ".block_count";
        public static string FeedForwardLength(string arch) => arch + ".feed_forward_length";
        public static string HeadCount(string arch) => arch + ".attention.head_count";
        public static string HeadCountKv(string arch) => arch + ".attention.head_count_kv";
        public static string KeyLength(string arch) => arch + ".attention.key_length";
        public static string ValueLength(string arch) => arch + ".attention.value_length";
        public static string LayerNormRmsEpsilon(string arch) => arch + ".attention.layer_norm_rms_epsilon";
        public static string RopeDimensionCount(string arch) => arch + ".rope.dimension_count";
        public static string RopeFreqBase(string arch) => arch + ".rope.freq_base";
        public static string RopeScalingType(string arch) => arch + ".rope.scaling.type";
        public static string RopeScalingFactor(string arch) => arch + ".rope.scaling.factor";
        public static string RopeScalingOriginalContextLength(string arch) => arch + ".rope.scaling.original_context_length";
    }

    /// <summary><c>llama.*</c> keys.</summary>
    public static class Llama
    {
        public const string VocabSize = "llama.vocab_size";
        public const string ContextLength = "llama.context_length";
        public const string EmbeddingLength = "llama.embedding_length";
        public const string BlockCount = "llama.block_count";
        public const string FeedForwardLength = "llama.feed_forward_length";
        public const string HeadCount = "llama.attention.head_count";
        public const string HeadCountKv = "llama.attention.head_count_kv";
        public const string KeyLength = "llama.attention.key_length";
        public const string ValueLength = "llama.attention.value_length";
        public const string LayerNormRmsEpsilon = "llama.attention.layer_norm_rms_epsilon";
        public const string RopeDimensionCount = "llama.rope.dimension_count";
        public const string RopeFreqBase = "llama.rope.freq_base";
        public const string RopeScalingType = "llama.rope.scaling.type";
        public const string RopeScalingFactor = "llama.rope.scaling.factor";
    }

    /// <summary><c>tokenizer.*</c> keys.</summary>
    public static class Tokenizer
    {
        public const string Model = "tokenizer.ggml.model";
        public const string Pre = "tokenizer.ggml.pre";
        public const string Tokens = "tokenizer.ggml.tokens";
        public const string TokenType = "tokenizer.ggml.token_type";
        public const string Scores = "tokenizer.ggml.scores";
        public const string Merges = "tokenizer.ggml.merges";
        public const string BosTokenId = "tokenizer.ggml.bos_token_id";
        public const string EosTokenId = "tokenizer.ggml.eos_token_id";
        public const string EotTokenId = "tokenizer.ggml.eot_token_id";
        public const string EomTokenId = "tokenizer.ggml.eom_token_id";
        public const string UnknownTokenId = "tokenizer.ggml.unknown_token_id";
        /// <summary>llama.cpp's spelling, "seperator", kept as files carry it.</summary>
        public const string SeparatorTokenId = "tokenizer.ggml.seperator_token_id";
        public const string PaddingTokenId = "tokenizer.ggml.padding_token_id";
        public const string AddBosToken = "tokenizer.ggml.add_bos_token";
        public const string AddEosToken = "tokenizer.ggml.add_eos_token";
        public const string AddSpacePrefix = "tokenizer.ggml.add_space_prefix";
        public const string ChatTemplate = "tokenizer.chat_template";
    }

    /// <summary><c>split.*</c> keys of llama.cpp's gguf-split shards.</summary>
    public static class Split
    {
        /// <summary>UInt16: index of this shard, from 0.</summary>
        public const string No = "split.no";
        /// <summary>UInt16: number of shards.</summary>
        public const string Count = "split.count";
        /// <summary>Int32: tensors over all shards.</summary>
        public const string TensorsCount = "split.tensors.count";
    }
}
