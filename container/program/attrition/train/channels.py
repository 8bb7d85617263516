"""Channels in: each SageMaker channel read (a folder, FastFile or Pipe), labelled, encoded with
the schema inferred from the training channel; and whether this host trains on its own shard."""

from dataclasses import dataclass

import numpy as np

from ..core.platform import environment, logs
from ..core.platform.errors import UserError
from ..core.table import data, features, schema
from . import distributed, hyperparameters
from .hyperparameters import Hyperparameters


@dataclass
class LabelledSet:
    """A channel as read, labelled and encoded."""

    channel: str
    table: data.Table
    schema: schema.Schema
    columns: dict
    x: np.ndarray
    y: np.ndarray

    @property
    def categorical(self) -> list[int]:
        return [i for i, f in enumerate(self.schema.features) if f.kind == schema.CATEGORICAL]


def read(paths: environment.Paths, hp: Hyperparameters, channel: str, sharded: bool):
    """The training set and the validation set (None without that channel). Sharded, the schema
    comes from the validation channel: the one set of rows every host holds."""
    has_validation = has(paths, environment.VALIDATION_CHANNEL)
    if sharded:
        held = _read_set(paths, hp, environment.VALIDATION_CHANNEL)
        return _read_set(paths, hp, channel, held), held
    training = _read_set(paths, hp, channel)
    return training, _read_set(paths, hp, environment.VALIDATION_CHANNEL, training) if has_validation else None


def _read_set(paths: environment.Paths, hp: Hyperparameters, channel: str,
              like: LabelledSet | None = None) -> LabelledSet:
    """A channel, labelled and encoded: with the schema inferred from it, or with `like`'s (whose
    columns and labels it must have)."""
    categorical = hyperparameters.split_list(hp.categorical_columns)
    if like is not None:
        categorical += [like.schema.feature_names[i] for i in like.categorical]
    table = _read(paths, channel, hp, categorical)
    if like is not None and sorted(table.columns) != sorted(like.table.columns):
        raise UserError(
            f"the {channel} channel's columns differ from the {like.channel} channel's: "
            f"missing {sorted(set(like.table.columns) - set(table.columns))}, "
            f"extra {sorted(set(table.columns) - set(like.table.columns))}"
        )
    rows, y, classes = _labelled(table, hp)
    if like is not None and classes != like.schema.classes:
        raise UserError(f"{channel} labels {classes} differ from {like.channel} labels {like.schema.classes}")
    table.values = table.column_values(rows)  # the labelled rows only, from here on
    features_schema = _infer_schema(table, table.values, classes, hp) if like is None else like.schema
    return LabelledSet(channel, table, features_schema, table.values,
                       features.encode_table(features_schema, table.values, len(rows)), y)


def training_channel(paths):
    for name in environment.TRAIN_CHANNELS:
        if has(paths, name):
            return name
    raise UserError(
        f"no training data: expected a channel named 'train' (or 'training') at "
        f"{paths.channel_dir('train')}"
    )


def has(paths, name: str) -> bool:
    return paths.channel_dir(name).is_dir() or paths.channel_pipe(name).exists()


def _read(paths, channel: str, hp: Hyperparameters, categorical: list) -> data.Table:
    """A channel's files (File or FastFile mode), or its FIFO (Pipe mode); `categorical` names
    the columns whose spellings are categories (core.table.columns)."""
    if paths.channel_dir(channel).is_dir():
        return data.read_channel(paths.channel_dir(channel), hp.label_column, hp.header, categorical)
    return data.read_pipe(paths.channel_pipe(channel), hp.label_column, hp.header, categorical)


def _labelled(table: data.Table, hp: Hyperparameters):
    kept, y, classes = data.label_vector(table, hp.positive_class)
    skipped = table.n_rows - len(kept)
    if skipped:
        logs.say(f"skipped {skipped} row(s) whose label {table.label_column!r} is missing")
    return kept, y, classes


def _infer_schema(table: data.Table, columns: dict, classes: list, hp: Hyperparameters) -> schema.Schema:
    return schema.infer(
        table.input_columns, columns, table.label_column, table.label_position,
        classes, hyperparameters.split_list(hp.drop_columns),
        hyperparameters.split_list(hp.categorical_columns),
    )


def sharded(data_config: dict, channel: str, hosts: distributed.Hosts, hp: Hyperparameters, paths) -> bool:
    """Whether several hosts train on their own files (ShardedByS3Key), with what that needs checked;
    a host alone reads every file it was given."""
    def distribution(name: str):
        config = data_config.get(name)
        return config.get("S3DistributionType") if isinstance(config, dict) else None

    if hosts.cluster is None or distribution(channel) != "ShardedByS3Key":
        return False
    if not has(paths, environment.VALIDATION_CHANNEL):
        raise UserError(f"channel {channel!r} is ShardedByS3Key: each of the {hosts.cluster.size} hosts trains on "
                        "its own files, so early stopping, the threshold and the schema need rows every host "
                        "holds: add a 'validation' channel (FullyReplicated)")
    if distribution(environment.VALIDATION_CHANNEL) == "ShardedByS3Key":
        raise UserError("the validation channel must be FullyReplicated: every host has to watch the same rows")
    if hp.tuning_trials:
        raise UserError("tuning_trials cross-validates, which a ShardedByS3Key channel on several hosts cannot: "
                        "tune with `attrition-deploy tune` (SageMaker's tuner), or make the channel FullyReplicated")
    return True
