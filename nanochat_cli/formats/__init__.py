"""Model files, read and written; nothing here imports the inference engine.

- gguf_io.py: GGUF read/write with ternary matrices as `.trits` + `.scales` tensors (`read_gguf`, `write_gguf`)
- weights.py: `ModelWeights`, what the engine runs, and the one load-time check against its config
- nanochat_gguf.py: the nanochat GGUF ("Q1_58") written and read
- bitnet_gguf.py: llama.cpp's `bitnet` GGUF (TQ2_0 / TQ1_0) written and read
- q6_k.py: the Q6_K embedding blocks (encode, and rows kept in their blocks)
- checkpoint_dir.py: a training checkpoint directory read (`load_checkpoint_model`, `resolve_checkpoint`, `read_config`)
- export.py: `nanochat export` (checkpoint -> GGUF); quantize.py: `nanochat quantize` (float safetensors -> GGUF)
- model_file.py: `load_model_weights(path)`, whichever of the above the path is
- describe.py: `nanochat info` (a GGUF's metadata and tensor table, or a checkpoint's as its export)
"""

from nanochat_cli.formats.export import FORMATS, checkpoint_weights, export_checkpoint, model_weights
from nanochat_cli.formats.gguf_io import GGUFFile, QuantTensor, Typed, read_gguf, write_gguf
from nanochat_cli.formats.model_file import load_model_weights
from nanochat_cli.formats.nanochat_gguf import write_nanochat_gguf
from nanochat_cli.formats.weights import ModelWeights

__all__ = [
    "FORMATS", "GGUFFile", "ModelWeights", "QuantTensor", "Typed", "checkpoint_weights", "export_checkpoint",
    "load_model_weights", "model_weights", "read_gguf", "write_gguf", "write_nanochat_gguf",
]
