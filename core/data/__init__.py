"""Data: reading uploaded tables, the model's feature schema, and the labelled evaluation set."""
from core.data.dataset import (
    MIN_ROWS,
    Dataset,
    default_inputs,
    encode_target,
    guess_bad_value,
    label_text,
    looks_like_identifier,
    numeric_columns,
    prepare_dataset,
    resolve_bad_value,
    stratified_split,
    target_values,
)
from core.data.reading import MAX_CELLS, MAX_COLUMNS, MAX_DATA_BYTES, Table, read_table
from core.data.schema import SCHEMA_FILE, FeatureSchema, FeatureSpec

__all__ = [
    "MIN_ROWS", "Dataset", "default_inputs", "encode_target", "guess_bad_value", "label_text", "looks_like_identifier",
    "numeric_columns", "prepare_dataset", "resolve_bad_value", "stratified_split", "target_values",
    "MAX_CELLS", "MAX_COLUMNS", "MAX_DATA_BYTES", "Table", "read_table", "SCHEMA_FILE", "FeatureSchema", "FeatureSpec",
]
