"""Model inputs from jagged candidates: data configs, safe expressions, columnar builders."""

from jetml.features.builder import (
    build_group,
    build_inputs,
    evaluate_new_variables,
    group_lengths,
    preprocess_values,
    sort_candidates,
)
from jetml.features.candidates import group_by_jet, linked_candidates
from jetml.features.config import (
    DataConfig,
    InputGroupConfig,
    VarInfo,
    load_data_config,
    parse_preprocess_json,
    parse_weaver_yaml,
)
from jetml.features.expressions import check_expression, evaluate_expression
from jetml.features.grid import GridSpec, build_grid, relative_coordinates

__all__ = [
    "DataConfig",
    "GridSpec",
    "InputGroupConfig",
    "VarInfo",
    "build_grid",
    "build_group",
    "build_inputs",
    "check_expression",
    "evaluate_expression",
    "evaluate_new_variables",
    "group_by_jet",
    "group_lengths",
    "linked_candidates",
    "load_data_config",
    "parse_preprocess_json",
    "parse_weaver_yaml",
    "preprocess_values",
    "relative_coordinates",
    "sort_candidates",
]
