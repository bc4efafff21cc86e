"""Model inputs from jagged candidates: data configs, safe expressions, columnar builders."""

from jetml.features.builder import (
    build_group,
    build_inputs,
    evaluate_new_variables,
    group_lengths,
    preprocess_values,
    sort_candidates,
)
from jetml.features.config import (
    DataConfig,
    InputGroupConfig,
    VarInfo,
    load_data_config,
    parse_preprocess_json,
    parse_weaver_yaml,
)
from jetml.features.expressions import check_expression, evaluate_expression

__all__ = [
    "DataConfig",
    "InputGroupConfig",
    "VarInfo",
    "build_group",
    "build_inputs",
    "check_expression",
    "evaluate_expression",
    "evaluate_new_variables",
    "group_lengths",
    "load_data_config",
    "parse_preprocess_json",
    "parse_weaver_yaml",
    "preprocess_values",
    "sort_candidates",
]
