"""Hostile and broken uploads: every one ends in a plain-language RiskPruneError, never a traceback,
never code run from the file, and never a modified input.

``HOSTILE_UPLOADS`` is the catalogue of bad *files* (bytes as a user would upload them) with the
phrase the user must see; an AppTest can feed the same builders through the upload widgets.
The rest of the file covers bad *content* (targets, columns, model heads, settings) at core level,
the no-mutation guarantees, and property-based fuzzing of the loaders.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import struct
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from core.data import FeatureSchema, FeatureSpec, label_text, prepare_dataset, read_table
from core.errors import DataError, ModelError, RiskPruneError, SpecError
from core.model import load_model, model_to_bytes, module_hash
from core.workspace import bind

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MODEL = ROOT / "sample_data" / "german_credit_mlp.pt"
SAMPLE_DATA = ROOT / "sample_data" / "german_credit.csv"
EXPORT_HINT = "torch.jit.script"

# A file a malicious pickle tries to create; per process so parallel runs do not collide.
CANARY = Path(tempfile.gettempdir()) / f"riskprune_canary_{os.getpid()}"


# --------------------------------------------------------------------------- builders


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mlp(n_in: int = 4, head: int = 1, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, 8), nn.ReLU(), nn.Linear(8, head)).eval()


def _good_model_bytes() -> bytes:
    return model_to_bytes(_mlp())


class _TouchOnUnpickle:
    """Unpickling this object calls Path.touch(CANARY): proof that a loader ran code from a file."""

    def __reduce__(self):
        return (Path.touch, (CANARY,))


class _WritesFiles(nn.Module):
    """A valid TorchScript model whose forward writes a file with torch.save (aten::save)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 1)
        self.path = str(CANARY)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch.save(x, self.path)
        return self.lin(x)


def _pickled_module() -> bytes:
    buf = io.BytesIO()
    torch.save(_mlp(), buf)
    return buf.getvalue()


def _state_dict() -> bytes:
    buf = io.BytesIO()
    torch.save(_mlp().state_dict(), buf)
    return buf.getvalue()


def _legacy_pickled_module() -> bytes:
    buf = io.BytesIO()
    torch.save(_mlp(), buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def _evil_torch_zip() -> bytes:
    """Laid out like torch.save(...) output, but data.pkl creates a file when unpickled."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(_TouchOnUnpickle(), protocol=2))
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/byteorder", "little")
    return buf.getvalue()


def _evil_torchscript_zip() -> bytes:
    """A real TorchScript archive whose constants.pkl and data.pkl were swapped for evil pickles."""
    src = zipfile.ZipFile(io.BytesIO(_good_model_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith(("constants.pkl", "data.pkl")):
                data = pickle.dumps(_TouchOnUnpickle(), protocol=2)
            zf.writestr(name, data)
    return buf.getvalue()


def _model_writing_files() -> bytes:
    return model_to_bytes(torch.jit.script(_WritesFiles().eval()))


def _patch_central_directory(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    i = out.find(b"PK\x01\x02")
    struct.pack_into(fmt, out, i + offset, value)
    return bytes(out)


def _encrypted_flag() -> bytes:
    good = _good_model_bytes()
    i = good.find(b"PK\x01\x02")
    return _patch_central_directory(good, 8, "<H", good[i + 8] | 1)


def _unknown_compression() -> bytes:
    out = bytearray(_patch_central_directory(_good_model_bytes(), 10, "<H", 99))
    j = out.find(b"PK\x03\x04")
    struct.pack_into("<H", out, j + 8, 99)
    return bytes(out)


def _zip_bomb_header() -> bytes:
    """A tiny zip whose directory claims a 3 GB member (what a decompression bomb looks like)."""
    return _patch_central_directory(_good_model_bytes(), 24, "<I", 3_000_000_000)


def _unrelated_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("report.docx", "hello")
    return buf.getvalue()


def _xlsx(frames: dict[str, pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, frame in frames.items():
            frame.to_excel(xw, sheet_name=name, index=False)
    return buf.getvalue()


def _parquet_nested(kind: str) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    col = [[1, 2], [3]] if kind == "list" else [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    buf = io.BytesIO()
    pq.write_table(pa.table({"income": [1.0, 2.0], "nested": col}), buf)
    return buf.getvalue()


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))


class HostileUpload(NamedTuple):
    """One bad upload: ``build()`` returns the bytes, ``phrase`` must appear in ``str(error)``.

    ``target`` is "model" (load_model) or "data" (read_table); ``filename`` is the name the
    browser would send; ``error`` the RiskPruneError subclass; ``canary`` whether the file tries
    to create CANARY (which must not exist afterwards).
    """

    name: str
    build: Callable[[], bytes]
    phrase: str
    target: str = "model"
    filename: str = "model.pt"
    error: type = ModelError
    hint: str = ""
    canary: bool = False


HOSTILE_UPLOADS: list[HostileUpload] = [
    # ---- model files
    HostileUpload("empty model file", lambda: b"", "model file is empty", hint="Upload"),
    HostileUpload("random bytes as model", lambda: np.random.default_rng(1).bytes(4096),
                  "not a PyTorch model file", hint=EXPORT_HINT),
    HostileUpload("text file as model", lambda: b"age,income\n30,1000\n", "not a PyTorch model file", hint=EXPORT_HINT),
    HostileUpload("PNG image as model", _png, "not a PyTorch model file", hint=EXPORT_HINT),
    HostileUpload("torch.save(model) pickle", _pickled_module, "pickled PyTorch model", hint="torch.jit.trace"),
    HostileUpload("state_dict only", _state_dict, "only weights", hint=EXPORT_HINT),
    HostileUpload("legacy (pre-zip) torch.save", _legacy_pickled_module, "legacy pickle", hint=EXPORT_HINT),
    HostileUpload("zip pickle that creates a file", _evil_torch_zip, "unpickling can run arbitrary code",
                  hint=EXPORT_HINT, canary=True),
    HostileUpload("raw pickle that creates a file", lambda: pickle.dumps(_TouchOnUnpickle(), protocol=4),
                  "legacy pickle", hint=EXPORT_HINT, canary=True),
    HostileUpload("protocol-0 pickle that creates a file", lambda: pickle.dumps(_TouchOnUnpickle(), protocol=0),
                  "not a PyTorch model file", hint=EXPORT_HINT, canary=True),
    HostileUpload("TorchScript with evil constants.pkl", _evil_torchscript_zip, "could not be loaded",
                  hint="Re-export", canary=True),
    HostileUpload("TorchScript whose forward writes files", _model_writing_files, "reads or writes files",
                  hint="no torch.save", canary=True),
    HostileUpload("truncated TorchScript", lambda: (lambda b: b[: len(b) // 2])(_good_model_bytes()),
                  "damaged or incomplete", hint="Upload the complete file"),
    HostileUpload("encrypted zip", _encrypted_flag, "password-protected", hint="torch.jit.save"),
    HostileUpload("unknown zip compression", _unknown_compression, "damaged or incomplete",
                  hint="Upload the complete file"),
    HostileUpload("zip bomb directory", _zip_bomb_header, "claims to unpack to 3.0 GB", hint="torch.jit.save"),
    HostileUpload("unrelated zip", _unrelated_zip, "not a PyTorch model", hint=EXPORT_HINT),
    HostileUpload("scripted nn.Identity", lambda: model_to_bytes(torch.jit.script(nn.Identity())),
                  "no Linear layer", hint="nn.Linear"),
    HostileUpload("activations only", lambda: model_to_bytes(nn.Sequential(nn.ReLU(), nn.Sigmoid())),
                  "nothing RiskPrune can prune", hint="MLPs"),
    # ---- data files
    HostileUpload("empty CSV", lambda: b"", "data file is empty", "data", "d.csv", DataError, "header row"),
    HostileUpload("random bytes as CSV", lambda: np.random.default_rng(2).bytes(2048), "binary", "data", "d.csv",
                  DataError, ".parquet"),
    HostileUpload("PNG as CSV", _png, "binary", "data", "d.csv", DataError, "matching extension"),
    HostileUpload("only whitespace", lambda: b"  \n\n \t\n", "holds no text", "data", "d.csv", DataError, "header row"),
    HostileUpload("header only (0 rows)", lambda: b"age,income,default\n", "no data rows", "data", "d.csv",
                  DataError, "at least one row"),
    HostileUpload("unclosed quote", lambda: b'age,name,default\n30,"Smith,0\n40,Doe,1\n', "could not be parsed",
                  "data", "d.csv", DataError, "separators"),
    HostileUpload("CSV named .xlsx", lambda: b"age,default\n1,0\n", "Excel file could not be opened", "data",
                  "d.xlsx", DataError, "CSV"),
    HostileUpload("garbage named .parquet", lambda: b"PAR1 this is not parquet", "not Parquet", "data",
                  "d.parquet", DataError, "CSV"),
    HostileUpload("old .xls", lambda: b"\xd0\xcf\x11\xe0" + bytes(100), "Old binary Excel", "data", "d.xls",
                  DataError, ".xlsx"),
    HostileUpload("unsupported extension", lambda: b'{"a": 1}', "not a supported data file", "data", "d.json",
                  DataError, ".csv"),
    HostileUpload("Parquet with a list column", lambda: _parquet_nested("list"), "nested", "data", "n.parquet",
                  DataError, "Flatten"),
    HostileUpload("Parquet with a struct column", lambda: _parquet_nested("struct"), "'nested'", "data",
                  "n.parquet", DataError, "Flatten"),
    # Repeated column names are no longer refused: they are made unique and reported
    # (tests/test_data_columns.py::test_repeated_names_are_made_unique_and_reported_in_csv_parquet_and_excel).
]


def load_upload(case: HostileUpload, data: bytes):
    """Feed bytes to the loader the case targets (the same call the upload pages make)."""
    if case.target == "model":
        return load_model(data, case.filename)
    return read_table(data, case.filename)


# --------------------------------------------------------------------------- the catalogue


@pytest.mark.parametrize("case", HOSTILE_UPLOADS, ids=[c.name for c in HOSTILE_UPLOADS])
def test_hostile_upload_is_refused_in_plain_language(case: HostileUpload):
    CANARY.unlink(missing_ok=True)
    data = case.build()
    digest = _sha(data)
    with pytest.raises(case.error) as info:
        load_upload(case, data)
    text = str(info.value)
    assert case.phrase in text
    assert case.hint in info.value.hint
    assert "Traceback" not in text and "\n" not in text
    assert _sha(data) == digest  # the uploaded bytes are never modified
    if case.canary:
        assert not CANARY.exists(), "loading the file ran code from it"


@pytest.mark.parametrize(
    "target, data_fn, phrase",
    [
        ("model", _good_model_bytes, "model file is"),
        ("data", lambda: b"age,default\n" + b"30,0\n" * 400, "data file is"),
    ],
)
def test_file_over_the_upload_limit_is_refused_with_readable_sizes(target, data_fn, phrase):
    data = data_fn()
    with pytest.raises(RiskPruneError) as info:
        if target == "model":
            load_model(data, max_bytes=1000)
        else:
            read_table(data, "d.csv", max_bytes=1000)
    text = str(info.value)
    assert phrase in text and "above the upload limit of 1.0 KB" in text
    assert " 0 MB" not in text  # the old message rounded small files to "0 MB, above the 0 MB limit"


def test_size_limit_never_shows_two_equal_sizes():
    limit = 1_000_000  # 1,000,001 bytes would round to "1.0 MB, above the limit of 1.0 MB"
    with pytest.raises(DataError) as info:
        read_table(b"a" * (limit + 1), "d.csv", max_bytes=limit)
    assert f"{limit + 1:,} bytes" in str(info.value) and f"{limit:,} bytes" in str(info.value)


# --------------------------------------------------------------------------- data content


def _frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "income": rng.normal(3000, 800, n).round(2),
        "age": rng.integers(18, 80, n).astype(float),
        "debt": rng.normal(0, 1, n),
        "default": np.tile([0, 1], n // 2),
    })


def test_semicolon_and_decimal_comma_csv_is_read_as_numbers():
    text = "income;rate;default\n1234,50;0,25;0\n99,75;1,5;1\n"
    table = read_table(text.encode(), "eu.csv")
    assert table.frame["income"].tolist() == [1234.5, 99.75]
    assert table.frame["rate"].tolist() == [0.25, 1.5]
    assert any("decimal comma" in n for n in table.notes)  # the reader says what it decided


def test_one_comma_number_in_a_text_column_does_not_turn_dot_decimals_into_text():
    text = "name;rate;default\n1,2;1.5;0\nDoe;4.25;1\nRoe;0.5;0\n"
    frame = read_table(text.encode(), "x.csv").frame
    assert frame["rate"].tolist() == [1.5, 4.25, 0.5]


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8-sig", "utf-16"])
def test_encodings_keep_accents_and_drop_the_bom(encoding):
    text = "città,name,default\nZürich,José,1\nKöln,Anaïs,0\n"
    frame = read_table(text.encode(encoding), "x.csv").frame
    assert list(frame.columns) == ["città", "name", "default"]
    assert frame["name"].tolist() == ["José", "Anaïs"] and frame["città"].tolist() == ["Zürich", "Köln"]


def test_excel_with_several_sheets_reads_the_first_says_so_and_lets_the_user_pick():
    data = _xlsx({"applicants": _frame(), "notes": pd.DataFrame({"x": [1, 2]})})
    table = read_table(data, "book.xlsx")
    assert table.sheets == ("applicants", "notes") and table.frame.shape == (60, 4)
    assert "2 sheets" in table.notes[0] and "'applicants'" in table.notes[0]
    assert read_table(data, "book.xlsx", sheet="notes").frame["x"].tolist() == [1, 2]
    with pytest.raises(DataError, match="no sheet 'missing'") as info:
        read_table(data, "book.xlsx", sheet="missing")
    assert "applicants, notes" in info.value.hint


def test_five_thousand_columns_give_a_fast_clear_answer():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(20, 5000)), columns=[f"c{i}" for i in range(5000)])
    wide["default"] = [0, 1] * 10
    started = time.perf_counter()
    table = read_table(wide.to_csv(index=False).encode(), "wide.csv")
    assert table.frame.shape == (20, 5001)
    model = load_model(_good_model_bytes())
    with pytest.raises(DataError, match="expects 4 inputs but the dataset provides 5000") as info:
        bind(model, table.frame, "default", "1")
    assert "training order" in info.value.hint
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(
    "values, bad, expected_bad",
    [
        ([0, 1], "1", "1"),
        ([0.0, 1.0], 1, "1"),
        (["good", "bad"], "bad", "bad"),
        ([True, False], "True", "True"),
        ([True, False], "true", "True"),
        (["no", "yes"], "yes", "yes"),
        (["No", "Yes"], "yes", "Yes"),
    ],
)
def test_binary_targets_are_accepted_with_the_right_bad_value(values, bad, expected_bad):
    frame = _frame().drop(columns="default")
    frame["target"] = values * (len(frame) // 2)
    ds = prepare_dataset(frame, "target", bad)
    assert ds.bad_value == expected_bad
    bad_index = [label_text(v) for v in values].index(expected_bad)
    assert ds.y.tolist() == [int(i % 2 == bad_index) for i in range(len(frame))]


def test_true_false_read_from_csv_is_a_binary_target():
    csv = "income,flag\n" + "".join(f"{i},{'True' if i % 3 == 0 else 'False'}\n" for i in range(30))
    frame = read_table(csv.encode(), "d.csv").frame
    ds = prepare_dataset(frame, "flag", "true")
    assert ds.y.sum() == 10 and ds.bad_value == "True"


@pytest.mark.parametrize(
    "mutate, target, bad, error, phrase, hint",
    [
        (lambda f: f.drop(columns="default"), "default", "1", DataError, "no target column 'default'", "columns: income"),
        (lambda f: f.assign(default=0), "default", "0", DataError, "only one outcome ('0')", "both good and bad"),
        (lambda f: f.assign(default=np.arange(len(f)) % 3), "default", "1", DataError,
         "exactly two outcomes, but has 3", "binary default flag"),
        (lambda f: f, "default", "bad", DataError, "'bad' does not occur", "marks a default"),
        (lambda f: f.assign(default=f["default"].astype(float).where(f.index != 3)), "default", "1", DataError,
         "empty in 1 row(s)", "Remove rows"),
        (lambda f: f.assign(debt=f["debt"].where(f.index != 5)), "default", "1", DataError,
         "missing or infinite inputs (first in column 'debt')", "Impute"),
        (lambda f: f.assign(debt=f["debt"].where(f.index != 5, np.inf)), "default", "1", DataError,
         "1 row(s) have missing or infinite", "Impute"),
        (lambda f: f.head(1), "default", "1", DataError, "1 row(s); at least 10", "more applicants"),
        (lambda f: f.head(0), "default", "1", DataError, "0 row(s)", "more applicants"),
    ],
    ids=["missing target", "one class", "three classes", "absent bad value", "missing label", "NaN feature",
         "inf feature", "one row", "zero rows"],
)
def test_bad_dataset_content_is_refused_with_a_reason(mutate, target, bad, error, phrase, hint):
    frame = mutate(_frame())
    before = frame.copy()
    with pytest.raises(error) as info:
        prepare_dataset(frame, target, bad)
    assert phrase in info.value.message and hint in info.value.hint
    pd.testing.assert_frame_equal(frame, before)


def test_text_where_numbers_are_expected_without_schema():
    frame = _frame()
    frame["age"] = frame["age"].astype(object)
    frame.loc[2, "age"] = "forty"
    with pytest.raises(DataError, match="'age' hold text") as info:
        prepare_dataset(frame, "default", "1", feature_columns=["income", "age"])
    assert "numeric columns" in info.value.hint


@pytest.fixture(scope="module")
def sample(sample_model, sample_frame):
    return sample_model, sample_frame


def _bind_sample(model, frame):
    return bind(model, frame, model.schema.target, model.schema.bad_value)


def _with(frame, column, row, value):
    out = frame.copy()
    out[column] = out[column].astype(object)
    out.loc[row, column] = value
    return out


@pytest.mark.parametrize(
    "mutate, phrase, hint",
    [
        (lambda f: _with(f, "purpose", 3, "spaceship"), "never saw in training: 'spaceship'", "known categories"),
        (lambda f: _with(f, "duration_in_month", 5, "twelve"), "should hold numbers but has text such as 'twelve'",
         "decimal separator"),
        (lambda f: _with(f, "credit_amount", 5, np.inf), "'credit_amount' has 1 missing or infinite", "Impute"),
        (lambda f: _with(f, "credit_amount", 5, None), "'credit_amount' has 1 missing or infinite", "Impute"),
        (lambda f: _with(f, "purpose", 1, None), "'purpose' has 1 missing value", "categories the model knows"),
        (lambda f: f.drop(columns=["age_in_years", "job"]), "lacks 2 column(s) the model needs: 'age_in_years'",
         "original column names"),
    ],
    ids=["unseen category", "text in numeric", "inf in numeric", "NaN in numeric", "NaN category", "missing columns"],
)
def test_schema_refuses_what_the_model_never_saw(sample, mutate, phrase, hint):
    model, frame = sample
    bad = mutate(frame)
    before = bad.copy()
    with pytest.raises(DataError) as info:
        _bind_sample(model, bad)
    assert phrase in info.value.message and hint in info.value.hint
    pd.testing.assert_frame_equal(bad, before)


def test_sample_csv_row_with_an_unseen_category_through_read_table(sample):
    model, _ = sample
    lines = SAMPLE_DATA.read_text().splitlines()
    lines[1] = lines[1].replace("radio/television", "cryptocurrency", 1)
    assert "cryptocurrency" in lines[1]
    frame = read_table(("\n".join(lines) + "\n").encode(), "g.csv").frame
    with pytest.raises(DataError, match="never saw in training: 'cryptocurrency'"):
        _bind_sample(model, frame)


# --------------------------------------------------------------------------- model heads


class _Head(nn.Module):
    def __init__(self, width: int, squeeze: bool = False, nan: bool = False) -> None:
        super().__init__()
        self.lin = nn.Linear(4, width)
        self.squeeze = squeeze
        if nan:
            with torch.no_grad():
                self.lin.bias.fill_(float("nan"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.lin(x)
        return out.squeeze(-1) if self.squeeze else out


def _data4(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    frame["default"] = np.tile([0, 1], n // 2)
    return frame


@pytest.mark.parametrize(
    "head, kind",
    [(_Head(1, squeeze=True), "logit"), (_Head(1), "logit"), (_Head(2), "two_class_logits")],
    ids=["(N,)", "(N,1)", "(N,2)"],
)
def test_output_shapes_n_n1_n2_are_accepted(head, kind):
    model = load_model(model_to_bytes(torch.jit.script(head.eval())))
    ws = bind(model, _data4(), "default", "1")
    assert ws.output.kind == kind and ((ws.original_scores >= 0) & (ws.original_scores <= 1)).all()


@pytest.mark.parametrize(
    "head, phrase, hint",
    [
        (_Head(3), "returns 3 values per applicant", "(N, 2)"),
        (_Head(1, nan=True), "NaN or infinite scores for 60 of 60", "weights"),
    ],
    ids=["(N,3)", "NaN output"],
)
def test_unusable_outputs_are_refused(head, phrase, hint):
    model = load_model(model_to_bytes(torch.jit.script(head.eval())))
    with pytest.raises(ModelError) as info:
        bind(model, _data4(), "default", "1")
    assert phrase in info.value.message and hint in info.value.hint


def test_nan_model_is_not_misdescribed_as_a_residual_network():
    model = load_model(model_to_bytes(_Head(1, nan=True).eval()))
    assert "residual" not in model.structure_note


def test_model_input_size_different_from_data_columns():
    model = load_model(model_to_bytes(_mlp(n_in=7)))
    with pytest.raises(DataError, match="expects 7 inputs but the dataset provides 4") as info:
        bind(model, _data4(), "default", "1")
    assert "training order" in info.value.hint


# --------------------------------------------------------------------------- settings


def test_pruning_settings_out_of_range_are_refused():
    from core.prune import PruneSpec, validate_spec

    model = load_model(model_to_bytes(_mlp()))
    cases = [
        (PruneSpec.make("magnitude_layer", -0.1), "ratio -0.1 for the whole model is outside [0, 0.99]", "share to remove"),
        (PruneSpec.make("magnitude_layer", 1.0), "ratio 1.0 for the whole model is outside", "at least a little must stay"),
        (PruneSpec.make("magnitude_layer", float("nan")), "ratio nan", "share to remove"),
        (PruneSpec.make("magnitude_layer", 0.5, {"layer9": 0.3}), "names a layer 'layer9' that the model does not have",
         "Prunable layers are: 0, 2"),  # embeddings and attention projections are prunable layers too
        (PruneSpec.make("magnitude_layer", 0.5, {"0": 1.5}), "for layer '0' is outside", "share to remove"),
        (PruneSpec.make("neuron_l1", 0.5, {"2": 0.5}), "produces the model's scores", "ratio to 0"),
        (PruneSpec.make("bogus", 0.5), "Unknown pruning method 'bogus'", "magnitude_layer"),
    ]
    for spec, phrase, hint in cases:
        with pytest.raises(SpecError) as info:
            validate_spec(model, spec)
        assert phrase in info.value.message, spec
        assert hint in info.value.hint, spec


def test_neuron_pruning_of_a_model_without_hidden_layer_is_refused():
    from core.prune import PruneSpec, validate_spec

    model = load_model(model_to_bytes(nn.Sequential(nn.Linear(4, 1))))
    with pytest.raises(SpecError, match="no hidden layer") as info:
        validate_spec(model, PruneSpec.make("neuron_l2", 0.5))
    assert "unstructured" in info.value.hint


# --------------------------------------------------------------------------- guarantees


def test_valid_uploads_are_not_modified_by_loading(sample):
    for data, fn in ((SAMPLE_MODEL.read_bytes(), load_model), (SAMPLE_DATA.read_bytes(), read_table)):
        digest = _sha(data)
        fn(data, "f.csv") if fn is read_table else fn(data)
        assert _sha(data) == digest
    buf = bytearray(SAMPLE_DATA.read_bytes())  # a mutable buffer too: read, never written
    digest = _sha(bytes(buf))
    read_table(bytes(buf), "f.csv")
    assert _sha(bytes(buf)) == digest


@pytest.fixture(scope="module")
def sample_workspace(sample):
    model, frame = sample
    return bind(model, frame, model.schema.target, model.schema.bad_value, eval_mode="holdout")


def _hashes(model) -> tuple[str, str | None]:
    return module_hash(model.scripted), (module_hash(model.eager) if model.eager is not None else None)


def test_fine_tuning_and_explaining_never_modify_the_loaded_model(sample_workspace):
    from core.explain.sample import ExplainSettings
    from core.prune import FineTuneSpec, PruneSpec, fine_tune
    from core.workspace import attributions_for, prune_workspace

    ws = sample_workspace
    before = _hashes(ws.model)
    pruned = prune_workspace(ws, PruneSpec.make("neuron_l1", 0.5))
    pruned_hash = module_hash(pruned.result.module)
    fine_tune(pruned.result, ws.X_train, ws.y_train, ws.output.kind, FineTuneSpec(epochs=1))
    assert module_hash(pruned.result.module) == pruned_hash
    sample = ExplainSettings(10, 10).draw(len(ws.eval_idx))
    attributions_for(ws, None, sample)
    attributions_for(ws, pruned, sample)
    assert _hashes(ws.model) == before
    assert module_hash(pruned.result.module) == pruned_hash


def test_prepare_and_bind_never_modify_the_users_frame(sample):
    model, frame = sample
    before = frame.copy()
    _bind_sample(model, frame)
    prepare_dataset(frame, model.schema.target, model.schema.bad_value, schema=model.schema)
    pd.testing.assert_frame_equal(frame, before)
    plain = _data4()
    plain_before = plain.copy()
    bind(load_model(model_to_bytes(_mlp())), plain, "default", "1", feature_columns=["a", "b", "c", "d"])
    prepare_dataset(plain, "default", "1")
    pd.testing.assert_frame_equal(plain, plain_before)


# --------------------------------------------------------------------------- property-based


def _prepare_any(table_frame: pd.DataFrame) -> None:
    """Whatever the loader returned, try to make a dataset of it the way the UI would."""
    target = table_frame.columns[0]
    values = table_frame[target].dropna().tolist()
    bad = values[0] if values else "1"
    prepare_dataset(table_frame, target, bad)
    names = list(table_frame.columns[1:3])
    if names:
        schema = FeatureSchema(tuple(FeatureSpec(str(n), "numeric" if i == 0 else "categorical",
                                                 categories=("x", "1")) for i, n in enumerate(names)))
        prepare_dataset(table_frame, target, bad, schema=schema)


_CELL = st.one_of(
    st.just(""), st.text(alphabet="abc ,;.\t|\"'0123456789-eE+naifNAIF", max_size=8),
    st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1,5", "2.5", "True", "false", "NaN", "inf", "-inf", "\"q\"", "\"a,b\"", "é", "\u00a0"]),
)
_NAME = st.text(alphabet="abcXYZ_ 0é;,\"", min_size=0, max_size=6)


@st.composite
def _csv_text(draw) -> bytes:
    n_cols = draw(st.integers(1, 5))
    n_rows = draw(st.integers(0, 14))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = [draw(_NAME) for _ in range(n_cols)]
    rows = [[draw(_CELL) for _ in range(n_cols + draw(st.integers(-1, 1)))] for _ in range(n_rows)]
    text = "\n".join(sep.join(r) for r in [header, *rows]) + draw(st.sampled_from(["", "\n", "\r\n"]))
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(enc, errors="replace")


_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FUZZ
@given(data=st.binary(max_size=3000), name=st.sampled_from(["d.csv", "d.parquet", "d.xlsx", "d.tsv", "d.txt"]))
def test_random_bytes_to_read_table_raise_only_project_errors(data, name):
    with contextlib.suppress(RiskPruneError):
        _prepare_any(read_table(data, name).frame)


@_FUZZ
@given(data=_csv_text())
def test_random_csv_texts_raise_only_project_errors(data):
    with contextlib.suppress(RiskPruneError):
        _prepare_any(read_table(data, "random.csv").frame)


_VALID_MODEL = _good_model_bytes()


@st.composite
def _model_bytes(draw) -> bytes:
    how = draw(st.sampled_from(["random", "zip-prefixed", "truncated", "flipped"]))
    if how == "random":
        return draw(st.binary(max_size=2000))
    if how == "zip-prefixed":
        return b"PK\x03\x04" + draw(st.binary(max_size=2000))
    if how == "truncated":
        return _VALID_MODEL[: draw(st.integers(0, len(_VALID_MODEL) - 1))]
    out = bytearray(_VALID_MODEL)
    for _ in range(draw(st.integers(1, 4))):
        out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    return bytes(out)


@_FUZZ
@given(data=_model_bytes())
def test_random_and_damaged_model_bytes_raise_only_project_errors(data):
    with contextlib.suppress(RiskPruneError):
        load_model(data, "fuzz.pt")
