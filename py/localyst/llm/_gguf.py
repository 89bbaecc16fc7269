"""What a GGUF model will take in memory, read from the head of its file before it is loaded.

A wasm32 tab addresses 4 GB in all, and llama.cpp there holds the whole file in that space,
plus the context's key/value cache and its working buffers; past the limit the model worker
dies mid-load. The file's size alone misses the cache, which for some models at 8,192
tokens is as big as the weights: so the shape (layers, heads) is read from the file's
metadata, which llama.cpp's writers put in its first kilobytes, and the sum is checked first.
The file is untrusted: every length is bounded by the bytes at hand.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

#: Tokens llama.cpp works on at once (its default batch): the size of its working buffers.
N_UBATCH = 512

# GGUF value types: fixed sizes, and the two of variable size.
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_INTS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 10: "<Q", 11: "<q"}
_STRING, _ARRAY = 8, 9


class _Short(Exception):
    """The head ended before the value."""


@dataclass(frozen=True)
class Shape:
    """The numbers that size a model's cache and buffers."""

    arch: str
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    key_length: int
    value_length: int
    n_vocab: int


@dataclass(frozen=True)
class Memory:
    """Bytes a model needs once loaded: its weights, its key/value cache, its working buffers."""

    weights: int
    cache: int
    buffers: int

    @property
    def total(self) -> int:
        return self.weights + self.cache + self.buffers


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise _Short
        out = self.data[self.at : self.at + n]
        self.at += n
        return out

    def int(self, kind: int) -> int:
        return struct.unpack(_INTS[kind], self.take(_FIXED[kind]))[0]

    def string(self) -> str:
        return self.take(self.int(10)).decode("utf-8", "replace")

    def value(self, kind: int) -> object:
        """A scalar or a string (floats and bools as their bytes: not needed here)."""
        if kind in _INTS:
            return self.int(kind)
        if kind in _FIXED:
            return self.take(_FIXED[kind])
        if kind == _STRING:
            return self.string()
        raise ValueError(f"GGUF value type {kind}")

    def skip(self, item: int, count: int) -> None:
        """Past an array's ``count`` items of type ``item``."""
        if item in _FIXED:
            self.take(_FIXED[item] * count)
        elif item == _STRING:
            for _ in range(count):
                self.take(self.int(10))
        else:
            raise ValueError(f"an array of GGUF type {item}")


def read_shape(head: bytes) -> Shape | None:
    """The model's shape from the head of its GGUF file; None when the head does not say
    (not a GGUF file, or its keys past the head: llama.cpp's writers put them in the first
    kilobyte, before the vocabulary, and a file that does not gets the size check alone)."""
    reader = _Reader(bytes(head))
    meta: dict[str, object] = {}
    try:
        if reader.take(4) != b"GGUF" or reader.int(4) not in (2, 3):
            return None
        reader.int(10)  # tensors
        for _ in range(reader.int(10)):
            key, kind = reader.string(), reader.int(4)
            if kind == _ARRAY:  # its length is what counts (the vocabulary's size)
                item, count = reader.int(4), reader.int(10)
                meta[key] = count
                reader.skip(item, count)
            else:
                meta[key] = reader.value(kind)
    except (_Short, ValueError, struct.error):
        pass  # the head ends (or turns odd) here: the keys read so far say what they can
    return _shape(meta)


def _shape(meta: dict[str, object]) -> Shape | None:
    arch = meta.get("general.architecture")
    if not isinstance(arch, str):
        return None
    need = {k: meta.get(f"{arch}.{k}") for k in ("block_count", "embedding_length", "attention.head_count")}
    vocab = meta.get("tokenizer.ggml.tokens", meta.get(f"{arch}.vocab_size"))
    if not all(isinstance(v, int) and v > 0 for v in [*need.values(), vocab]):
        return None
    n_head = int(need["attention.head_count"])  # type: ignore[arg-type]
    n_embd = int(need["embedding_length"])  # type: ignore[arg-type]

    def positive(key: str, default: int) -> int:
        value = meta.get(f"{arch}.{key}")
        return value if isinstance(value, int) and value > 0 else default

    return Shape(
        arch,
        int(need["block_count"]),  # type: ignore[arg-type]
        n_embd,
        n_head,
        positive("attention.head_count_kv", n_head),
        positive("attention.key_length", n_embd // n_head),
        positive("attention.value_length", n_embd // n_head),
        int(vocab),  # type: ignore[arg-type]
    )


def memory_needed(size: int, shape: Shape, n_ctx: int) -> Memory:
    """An estimate of the bytes a model of ``size`` bytes and ``shape`` takes at ``n_ctx``
    tokens of context in llama.cpp: the file itself, an f16 key/value cache of ``n_ctx``
    tokens in every layer, and the larger of its two biggest working buffers (a batch's
    attention scores over the whole context, and a batch's logits over the vocabulary)."""
    cache = shape.n_layer * n_ctx * shape.n_head_kv * (shape.key_length + shape.value_length) * 2
    scores = n_ctx * N_UBATCH * shape.n_head * 4
    logits = shape.n_vocab * N_UBATCH * 4
    return Memory(size, cache, max(scores, logits))
