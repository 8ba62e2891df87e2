"""Reference decoding of ONNX TensorProto files by the onnx Python package (Debian python3-onnx).

Reads .pb paths (one a line) on stdin and prints one JSON line per file:
{"path", "dtype", "shape", "sha256"} where sha256 is of the little-endian element bytes numpy holds
(float16/bfloat16 as their 16-bit patterns, bool as one byte 0/1, strings as UTF-8 joined by NUL), or
{"path", "error"} when onnx cannot turn the proto into an array. tensor-proto-reference.test.ts compares these
with what Lepton's tensorFromProto decodes, so the raw and Lepton conformance paths (which both start from
tensorFromProto) are checked against a decoder that is not ours.
"""
import hashlib
import json
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

# onnx 1.12 names: TensorProto data_type -> Lepton dtype name.
DTYPES = {
    TensorProto.FLOAT: "float32",
    TensorProto.UINT8: "uint8",
    TensorProto.INT8: "int8",
    TensorProto.UINT16: "uint16",
    TensorProto.INT16: "int16",
    TensorProto.INT32: "int32",
    TensorProto.INT64: "int64",
    TensorProto.STRING: "string",
    TensorProto.BOOL: "bool",
    TensorProto.FLOAT16: "float16",
    TensorProto.DOUBLE: "float64",
    TensorProto.UINT32: "uint32",
    TensorProto.UINT64: "uint64",
    TensorProto.BFLOAT16: "bfloat16",
}


def element_bytes(tp):
    if tp.data_type == TensorProto.BFLOAT16:
        # numpy has no bfloat16: onnx gives float32 values; the stored bits are their upper halves.
        if tp.raw_data:
            return bytes(tp.raw_data)
        return np.asarray(tp.int32_data, dtype="<u2").tobytes()
    arr = numpy_helper.to_array(tp)
    if tp.data_type == TensorProto.STRING:
        return b"\0".join(s if isinstance(s, bytes) else str(s).encode("utf-8") for s in arr.ravel())
    if tp.data_type == TensorProto.FLOAT16:
        return np.ascontiguousarray(arr).view("<u2").tobytes()
    return np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()


def main():
    for line in sys.stdin:
        path = line.strip()
        if not path:
            continue
        tp = TensorProto()
        with open(path, "rb") as f:
            tp.ParseFromString(f.read())
        try:
            data = element_bytes(tp)
            out = {
                "path": path,
                "dtype": DTYPES.get(tp.data_type, helper.tensor_dtype_to_string(tp.data_type) if hasattr(helper, "tensor_dtype_to_string") else str(tp.data_type)),
                "shape": [int(d) for d in tp.dims],
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        except Exception as e:  # noqa: BLE001 - the reason is reported to the test, which decides
            out = {"path": path, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out))


if __name__ == "__main__":
    main()
