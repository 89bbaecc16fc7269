"""A tiny llama model as a GGUF file, written with the `gguf` package (llama.cpp's own writer):
random weights, so its text is nonsense, but llama.cpp loads it, applies its chat template
and streams tokens like any model — enough to test the in-page plumbing in seconds.

The vocabulary is a SentencePiece-style one of the 256 byte tokens plus the control tokens,
so any text tokenizes; the template is ChatML (Qwen's), which llama.cpp recognises.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def write_tiny_gguf(path: Path, *, seed: int = 0, embedding: int = 64, layers: int = 2, heads: int = 4, feed_forward: int = 128) -> Path:
    """Write the model to ``path`` (about 1 MB at the defaults) and return it."""
    import gguf

    rng = np.random.default_rng(seed)
    tokens = [b"<unk>", b"<s>", b"</s>", b"<|im_start|>", b"<|im_end|>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>".encode() for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    # A few whole words, so that the random model's text is more than single bytes.
    words = [b"\xe2\x96\x81" + w.encode() for w in "the a of to and in is it data print import pandas df".split()]
    tokens += words
    types += [gguf.TokenType.NORMAL] * len(words)
    vocab = len(tokens)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-random-llama")
    writer.add_context_length(2048)
    writer.add_embedding_length(embedding)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(feed_forward)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads)
    writer.add_rope_dimension_count(embedding // heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * 5 + [-1000.0] * 256 + [-float(i) for i in range(len(words))])
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(4)  # <|im_end|> ends a turn
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML)

    def tensor(name: str, *shape: int) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.2).astype(np.float32))

    tensor("token_embd.weight", vocab, embedding)
    for i in range(layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(embedding, dtype=np.float32))
        for part in ("q", "k", "v", "output"):
            tensor(f"blk.{i}.attn_{part}.weight", embedding, embedding)
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(embedding, dtype=np.float32))
        tensor(f"blk.{i}.ffn_gate.weight", feed_forward, embedding)
        tensor(f"blk.{i}.ffn_up.weight", feed_forward, embedding)
        tensor(f"blk.{i}.ffn_down.weight", embedding, feed_forward)
    writer.add_tensor("output_norm.weight", np.ones(embedding, dtype=np.float32))
    tensor("output.weight", vocab, embedding)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


if __name__ == "__main__":
    import sys

    print(write_tiny_gguf(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny.gguf")))
