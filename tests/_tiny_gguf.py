"""A tiny llama model as a GGUF file, written with the `gguf` package (llama.cpp's own writer),
that llama.cpp loads, templates and streams like any model, in well under a second a reply.

Its weights are random except for one path: its attention and feed-forward layers add
nothing, so each next token depends only on the current one (a bigram model), and the
weights make the newline that ends ChatML's ``<|im_start|>assistant\n`` lead to the tokens of
``reply``, in order, and then to ``<|im_end|>`` (or, with ``loop``, repeat the last one for
ever). So the "model" answers every question with ``reply``: a test can script it.

The vocabulary is a SentencePiece-style one of the 256 byte tokens, the control tokens, and
each piece of ``reply`` as a token of its own; the template is ChatML (Qwen's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


#: How far the scripted next token's logit stands above the others.
MARGIN = 40.0


def write_tiny_gguf(
    path: Path, reply: list[str], *, loop: bool = False, seed: int = 0, embedding: int = 64, layers: int = 2, heads: int = 4, feed_forward: int = 128
) -> Path:
    """Write the model (under 1 MB at the defaults) to ``path`` and return it. ``reply`` is
    its answer in pieces (each becomes one token; at most ``embedding - 2`` of them, distinct)."""
    import gguf

    if len(set(reply)) != len(reply) or not 0 < len(reply) <= embedding - 2:
        raise ValueError("reply must be 1 to embedding - 2 distinct pieces")
    rng = np.random.default_rng(seed)
    tokens = [b"<unk>", b"<s>", b"</s>", b"<|im_start|>", b"<|im_end|>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>".encode() for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    words = [piece.encode() for piece in reply]  # user-defined tokens: written out as they are
    first_word = len(tokens)
    tokens += words
    types += [gguf.TokenType.USER_DEFINED] * len(words)
    vocab = len(tokens)
    newline, end = 5 + 0x0A, 4  # <0x0A> and <|im_end|>
    chain = [newline, *range(first_word, first_word + len(words))]

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
    writer.add_token_scores([0.0] * 5 + [-1000.0] * 256 + [0.0] * len(words))
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(4)  # <|im_end|> ends a turn
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML)

    def random(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    # Token t of the chain is the unit vector e_t; every other token is small noise. Its
    # successor's output row is e_t scaled, so after the final norm it wins by MARGIN.
    embeddings = random(vocab, embedding)
    output = random(vocab, embedding)
    for step, token in enumerate(chain):
        embeddings[token] = np.eye(embedding, dtype=np.float32)[step]
        successor = chain[step + 1] if step + 1 < len(chain) else (token if loop else end)
        output[successor] += np.eye(embedding, dtype=np.float32)[step] * MARGIN / np.sqrt(embedding)
    writer.add_tensor("token_embd.weight", embeddings)
    for i in range(layers):  # each layer reads, and adds nothing (its output weights are zero)
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(embedding, dtype=np.float32))
        for part in ("q", "k", "v"):
            writer.add_tensor(f"blk.{i}.attn_{part}.weight", random(embedding, embedding))
        writer.add_tensor(f"blk.{i}.attn_output.weight", np.zeros((embedding, embedding), dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(embedding, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", random(feed_forward, embedding))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", random(feed_forward, embedding))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", np.zeros((embedding, feed_forward), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones(embedding, dtype=np.float32))
    writer.add_tensor("output.weight", output)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_shape_only_gguf(path: Path, *, layers: int, embedding: int, heads: int, heads_kv: int, vocab: int) -> Path:
    """A GGUF file whose metadata describes a model of this shape and that has no weights:
    what the memory check reads, at a few hundred bytes."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("shape-only")
    writer.add_block_count(layers)
    writer.add_embedding_length(embedding)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads_kv)
    writer.add_vocab_size(vocab)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


if __name__ == "__main__":
    import sys

    print(write_tiny_gguf(Path(sys.argv[1]), sys.argv[2:]))
