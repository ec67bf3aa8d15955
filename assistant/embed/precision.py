"""The precision an ingest embeds documents at: bf16 where the CPU computes it natively, else fp32.

Questions are always embedded in fp32 (onnxruntime, no torch); only the vectors a build stores
(``LocalEmbeddings.embed_bulk``: passages, their sentences, the quarantine's reading) may be bf16.
Measured on this machine's 2 cores (AVX-512 BF16), the shipped corpus's 1,294 texts in one build:
the embedding stages took 6.7 s in bf16 against 14.4 s in fp32 (onnxruntime), and the 558 texts of
``eval.runtime_bench`` gave a mean cosine of 0.99995 (lowest 0.99991) against fp32, where int8
reached only 0.993 (``eval/reports/quantize.md``). A CPU without native bf16 would emulate it,
slower than fp32, so "auto" takes bf16 only where ``/proc/cpuinfo`` lists ``avx512_bf16`` or
``amx_bf16``. The first bf16 build in a process imports torch (about 1 s and 200 MB).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from assistant.errors import ConfigError

Precision = Literal["bf16", "fp32"]
CPUINFO = Path("/proc/cpuinfo")
NATIVE_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def native_bf16(cpuinfo: Path = CPUINFO) -> bool:
    """True if the CPU lists an instruction set that computes bf16 natively (Linux only: anywhere
    the file cannot be read, False)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            return bool(NATIVE_FLAGS & set(value.split()))
    return False


def ingest_precision(setting: str, cpuinfo: Path = CPUINFO) -> Precision:
    """The precision the ``ingest_precision`` setting asks for on this machine."""
    if setting == "auto":
        return "bf16" if native_bf16(cpuinfo) else "fp32"
    if setting == "bf16" or setting == "fp32":
        return setting
    raise ConfigError(f"ingest_precision is {setting!r}: give 'auto', 'bf16' or 'fp32'")
