"""Pickle files read as data: an explicit allow-list of globals, nothing else ever called.

Three readers share `SafeUnpickler`, whose `find_class` hands out only the callables listed for it and
refuses any other global (naming it), so no pickled reference to `os.system`, `eval`, `exec`,
`builtins.getattr` or a class of some package can run:

- `read_torch_header`: the tensor-shape header of a PyTorch zip checkpoint (`.pt`, `.bin`, `.pth`).
  It checks the archive's members (count, uncompressed sizes: compressed storage cannot inflate past
  the limit) and reads `data.pkl` into `TensorInfo` leaves, checking that every storage it names
  is no larger than its member, all before any tensor exists. `load_torch` then hands the file to
  `torch.load(weights_only=True)`, PyTorch's own restricted loader.
- `read_nvlabs_pickle`: an NVlabs StyleGAN network pickle. Its networks pickle their Python source
  and would `exec` it on unpickling; here the persistence reconstructor is replaced by one that
  returns a `PersistentObject` (class name, sha256 of the source, state) and never runs the source.
  Tensors come out of PyTorch's legacy storage format, parsed here with the sizes checked first.
"""

from __future__ import annotations

import hashlib
import io
import math
import pickle
import re
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from gan.errors import CheckpointError, one_line

MAX_HEADER_BYTES = 64 << 20  # a data.pkl (names, shapes, nesting) larger than this is not a weights file
MAX_ZIP_MEMBERS = 100_000  # a zip checkpoint has a few files per tensor; more is an archive bomb
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # first value of PyTorch's pre-1.6 (and plain-pickle storage) format
LEGACY_PROTOCOL = 1001
STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
}  # fmt: skip
NUMPY_KINDS = "biufc"  # numpy scalars and arrays of booleans and numbers only, never of objects


class UnsafePickle(CheckpointError):
    """The pickle names a global outside the allow-list: loading it would run code."""

    def __init__(self, module: str, name: str) -> None:
        self.global_name = f"{module}.{name}"
        super().__init__(f"unpickling it would call {self.global_name}")


@dataclass(frozen=True)
class StorageRef:
    key: str
    dtype: torch.dtype
    numel: int


@dataclass(frozen=True)
class TensorInfo:
    """A tensor known from a checkpoint's header: its shape and dtype, no data."""

    shape: tuple[int, ...]
    dtype: torch.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)


@dataclass
class PersistentObject:
    """An NVlabs persistent network as data: what its class is called, whose source it carried, its state."""

    class_name: str
    source_sha256: str  # of the embedded module source, which is never executed
    state: dict[str, Any] = field(default_factory=dict)

    def children(self) -> dict[str, PersistentObject]:
        modules = self.state.get("_modules") or {}
        return {k: v for k, v in modules.items() if isinstance(v, PersistentObject)}

    def class_names(self) -> set[str]:
        names = {self.class_name}
        for child in self.children().values():
            names |= child.class_names()
        return names

    def state_dict(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Parameters and persistent buffers by dotted name, like torch.nn.Module.state_dict()."""
        out: dict[str, torch.Tensor] = {}
        skipped = self.state.get("_non_persistent_buffers_set") or set()
        for group in ("_parameters", "_buffers"):
            for name, tensor in (self.state.get(group) or {}).items():
                if isinstance(tensor, torch.Tensor) and name not in skipped:
                    out[prefix + name] = tensor
        for name, child in self.children().items():
            out.update(child.state_dict(f"{prefix}{name}."))
        return out


class EasyDict(dict):
    """Stands in for dnnlib.util.EasyDict: a dict, nothing more."""


class SafeUnpickler(pickle.Unpickler):
    """pickle.Unpickler whose globals come only from `allowed`; anything else raises UnsafePickle."""

    allowed: ClassVar[dict[tuple[str, str], Any]] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise UnsafePickle(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("unexpected persistent id")


def _is_index_tuple(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)


def _extent(size: tuple[int, ...], stride: tuple[int, ...], offset: int) -> int:
    """Elements a strided view reaches into its storage: offset + last index + 1 (offset if empty)."""
    if any(s == 0 for s in size):
        return offset
    return offset + sum((s - 1) * st for s, st in zip(size, stride, strict=True)) + 1


def _check_view(size: Any, stride: Any, offset: Any, numel: int) -> None:
    if not (_is_index_tuple(size) and _is_index_tuple(stride) and len(size) == len(stride)):
        raise pickle.UnpicklingError("a tensor with a malformed size or stride")
    if not isinstance(offset, int) or offset < 0 or _extent(size, stride, offset) > numel:
        raise pickle.UnpicklingError("a tensor reaches outside its storage")


# -- PyTorch zip checkpoints ------------------------------------------------------------------------


def _storage_marker(name: str) -> Callable[..., Any]:
    def marker(*_args: Any) -> Any:
        raise pickle.UnpicklingError(f"torch.{name} is not callable here")

    marker.dtype = STORAGE_DTYPES[name]  # type: ignore[attr-defined]
    return marker


STORAGE_MARKERS = {("torch", name): _storage_marker(name) for name in STORAGE_DTYPES}


class _HeaderUnpickler(SafeUnpickler):
    """data.pkl of a zip checkpoint: storages become StorageRef, tensors TensorInfo."""

    def __init__(self, file: io.BufferedIOBase) -> None:
        super().__init__(file)
        self.storages: dict[str, StorageRef] = {}
        self.allowed = {  # type: ignore[misc]
            ("collections", "OrderedDict"): OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2"): self._tensor,
            ("torch._utils", "_rebuild_parameter"): lambda data, *_: data,
            ("torch._utils", "_rebuild_parameter_with_state"): lambda data, *_: data,
            **STORAGE_MARKERS,
        }

    def persistent_load(self, pid: Any) -> StorageRef:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError("an unknown persistent record")
        _, kind, key, _location, numel = pid[:5]
        dtype = getattr(kind, "dtype", None)
        if dtype is None or not isinstance(key, str) or isinstance(numel, bool) or not isinstance(numel, int):
            raise pickle.UnpicklingError("a malformed storage record")
        if numel < 0:
            raise pickle.UnpicklingError("a storage of negative size")
        ref = self.storages.setdefault(key, StorageRef(key, dtype, numel))
        if ref != StorageRef(key, dtype, numel):
            raise pickle.UnpicklingError(f"storage {key} is described twice, differently")
        return ref

    def _tensor(self, storage: Any, offset: Any, size: Any, stride: Any, *_rest: Any) -> TensorInfo:
        if not isinstance(storage, StorageRef):
            raise pickle.UnpicklingError("a tensor without a storage")
        _check_view(size, stride, offset, storage.numel)
        return TensorInfo(tuple(size), storage.dtype)


def read_torch_header(path: Path, limit: int) -> Any:
    """The object a zip checkpoint holds, with TensorInfo for each tensor; CheckpointError if unsafe or bad."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        with path.open("rb") as handle:
            head = handle.read(16)
        if head[:1] == b"\x80":  # a bare pickle: PyTorch's format before 1.6, or not PyTorch at all
            raise CheckpointError(
                "is in PyTorch's pre-1.6 serialization (a bare pickle), which GAN studio does not read: "
                "re-save it with a current PyTorch, or export safetensors"
            ) from error
        raise CheckpointError(f"is not a readable PyTorch checkpoint ({error})") from error
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise CheckpointError(f"is an archive of {len(members)} files, not a checkpoint")
        total = sum(m.file_size for m in members)
        if total > limit:
            packed = sum(m.compress_size for m in members)
            raise CheckpointError(
                f"unpacks to {total / (1 << 20):.1f} MB ({packed / (1 << 20):.1f} MB compressed), above the "
                f"{limit / (1 << 20):.1f} MB limit: refused before loading"
            )
        by_name = {m.filename: m for m in members}
        pickles = [m for m in members if m.filename.endswith("/data.pkl") or m.filename == "data.pkl"]
        if len(pickles) != 1:
            raise CheckpointError("is a zip file but not a PyTorch checkpoint (no single data.pkl)")
        header = pickles[0]
        if header.file_size > MAX_HEADER_BYTES:
            raise CheckpointError(f"has a {header.file_size >> 20} MB data.pkl: not a weights file")
        prefix = header.filename[: -len("data.pkl")]
        unpickler = _HeaderUnpickler(io.BytesIO(archive.read(header)))
        try:
            structure = unpickler.load()
        except UnsafePickle:
            raise
        except Exception as error:  # untrusted bytes fail in many ways: EOFError, ValueError, UnpicklingError...
            raise CheckpointError(f"is not a readable PyTorch checkpoint ({error})") from error
        for ref in unpickler.storages.values():
            member = by_name.get(f"{prefix}data/{ref.key}")
            needed = ref.numel * torch.empty(0, dtype=ref.dtype).element_size()
            if member is None or member.file_size < needed:
                raise CheckpointError(f"is corrupt: storage {ref.key} claims {needed} bytes that the file lacks")
    return structure


def load_torch(path: Path) -> Any:
    """torch.load(weights_only=True), for a file whose header `read_torch_header` accepted."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=False)
    except Exception as error:  # untrusted bytes: KeyError, RuntimeError, EOFError, UnpicklingError...
        raise CheckpointError(torch_load_refusal(error)) from error


_TORCH_ADVICE = ("weights_only", "weights only", "trusted source", "file an issue", "documentation")


def torch_load_refusal(error: BaseException, what: str = "PyTorch checkpoint") -> str:
    """Why torch.load(weights_only=True) refused a file, completing "<file> ...", in words of ours.

    A pickle that calls a global outside PyTorch's allow-list "needs code execution", naming the global; any
    other failure gives torch's specific reason. Never torch's advice to turn the check off: its wording
    changes between releases (2.6 rewrote it), so it is recognised by its words, and the type decides.
    """
    text = str(error)
    specific = [line.strip() for line in text.splitlines()
                if line.strip() and not any(word in line.lower() for word in _TORCH_ADVICE)]  # fmt: skip
    named = re.search(r"GLOBAL\s+([\w.]+)", text)
    if isinstance(error, pickle.UnpicklingError) and (named or any("global" in line.lower() for line in specific)):
        called = f" (it calls {named.group(1)})" if named else ""
        return f"is a pickle that needs code execution to load{called}: refused, nothing in it was run"
    reason = one_line(specific[0], 200) if specific else error.__class__.__name__
    return f"is not a readable {what} ({reason})"


def tensors_only(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, (torch.Tensor, TensorInfo)) for v in value.values())


# -- NVlabs network pickles ---------------------------------------------------------------------------


class _LegacyRecordUnpickler(SafeUnpickler):
    """The storage record inside PyTorch's legacy format: ('storage', <Type>Storage, key, location, numel, ...)."""

    allowed: ClassVar[dict[tuple[str, str], Any]] = STORAGE_MARKERS

    def persistent_load(self, pid: Any) -> StorageRef:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError("an unknown persistent record")
        _, kind, key, _location, numel = pid[:5]
        dtype = getattr(kind, "dtype", None)
        if dtype is None or not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError("a malformed storage record")
        return StorageRef(key, dtype, numel)


def storage_from_bytes(data: Any) -> torch.Tensor:
    """A storage pickled by torch (TypedStorage.__reduce__) as a flat tensor, sizes checked before allocating."""
    if not isinstance(data, bytes):
        raise pickle.UnpicklingError("a storage that is not bytes")
    stream = io.BytesIO(data)
    plain = SafeUnpickler(stream)
    if plain.load() != LEGACY_MAGIC or SafeUnpickler(stream).load() != LEGACY_PROTOCOL:
        raise pickle.UnpicklingError("a storage in an unknown format")
    info = SafeUnpickler(stream).load()
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise pickle.UnpicklingError("a storage that is not little-endian")
    ref = _LegacyRecordUnpickler(stream).load()
    keys = SafeUnpickler(stream).load()
    if not isinstance(ref, StorageRef) or keys != [ref.key]:
        raise pickle.UnpicklingError("a storage record without its data")
    size = int.from_bytes(stream.read(8), "little", signed=True)
    itemsize = torch.empty(0, dtype=ref.dtype).element_size()
    remaining = len(data) - stream.tell()
    if size != ref.numel or size * itemsize != remaining:
        raise pickle.UnpicklingError(f"a storage of {size} elements with {remaining} bytes of data")
    return (
        torch.frombuffer(bytearray(stream.read(remaining)), dtype=ref.dtype)
        if size
        else torch.empty(0, dtype=ref.dtype)
    )


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, requires_grad: Any = False, *_: Any):
    if not isinstance(storage, torch.Tensor) or storage.ndim != 1:
        raise pickle.UnpicklingError("a tensor without a storage")
    _check_view(size, stride, offset, storage.numel())
    return torch.as_strided(storage, size, stride, offset)


def _rebuild_parameter(data: Any, requires_grad: Any = False, *_: Any) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise pickle.UnpicklingError("a parameter without data")
    return torch.nn.Parameter(data, requires_grad=bool(requires_grad))


def _persistent_object(meta: Any) -> PersistentObject:
    """NVlabs' persistence reconstructor, as data: the embedded source is hashed, never executed."""
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise pickle.UnpicklingError("a persistent object of an unknown kind")
    source, name, state = meta.get("module_src"), meta.get("class_name"), meta.get("state")
    if not isinstance(source, str) or not isinstance(name, str) or not isinstance(state, dict):
        raise pickle.UnpicklingError("a malformed persistent object")
    return PersistentObject(name, hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest(), dict(state))


def _numpy_dtype(spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
    if not isinstance(spec, str) or len(spec) > 4:
        raise pickle.UnpicklingError("a numpy dtype that is not a plain number type")
    dtype = np.dtype(spec)
    if dtype.kind not in NUMPY_KINDS:
        raise pickle.UnpicklingError(f"a numpy dtype of kind {dtype.kind!r}")
    return dtype


def _numpy_scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.kind not in NUMPY_KINDS or not isinstance(data, bytes):
        raise pickle.UnpicklingError("a numpy scalar that is not a number")
    if len(data) != dtype.itemsize:
        raise pickle.UnpicklingError("a numpy scalar of the wrong size")
    return np.frombuffer(data, dtype=dtype)[0]


def _numpy_array(cls: Any, shape: Any, dtype: Any) -> np.ndarray:
    if cls is not np.ndarray:
        raise pickle.UnpicklingError("a numpy array of an unknown class")
    return np.ndarray.__new__(np.ndarray, (0,), np.uint8)  # filled (and checked) by ndarray.__setstate__


class _NVlabsUnpickler(SafeUnpickler):
    allowed: ClassVar[dict[tuple[str, str], Any]] = {
        ("torch_utils.persistence", "_reconstruct_persistent_obj"): _persistent_object,
        ("dnnlib.util", "EasyDict"): EasyDict,
        ("collections", "OrderedDict"): OrderedDict,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch.storage", "_load_from_bytes"): storage_from_bytes,
        ("numpy", "dtype"): _numpy_dtype,
        ("numpy", "ndarray"): np.ndarray,  # only as a marker for _reconstruct
        ("numpy.core.multiarray", "scalar"): _numpy_scalar,
        ("numpy._core.multiarray", "scalar"): _numpy_scalar,
        ("numpy.core.multiarray", "_reconstruct"): _numpy_array,
        ("numpy._core.multiarray", "_reconstruct"): _numpy_array,
    }


def read_nvlabs_pickle(path: Path) -> Any:
    """The object an NVlabs network pickle holds, persistent networks as PersistentObject."""
    with path.open("rb") as handle:
        try:
            return _NVlabsUnpickler(handle).load()
        except UnsafePickle:
            raise
        except (Exception, RecursionError) as error:  # truncated, corrupt, or not a pickle at all
            reason = str(error).splitlines()[0][:200] if str(error) else error.__class__.__name__
            raise CheckpointError(f"is not a readable network pickle ({reason})") from error


def count_values(structure: Any) -> int:
    """Elements in every tensor (or TensorInfo) of a nested structure."""
    if isinstance(structure, TensorInfo):
        return math.prod(structure.shape)
    if isinstance(structure, torch.Tensor):
        return structure.numel()
    if isinstance(structure, dict):
        return sum(count_values(v) for v in structure.values())
    if isinstance(structure, (list, tuple)):
        return sum(count_values(v) for v in structure)
    return 0
