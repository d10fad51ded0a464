"""The seed's two pipelines — baseline (full preprocessing, 100 trees of depth 3) and optimized — and their MAE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from greenai.domain.jobs import ValidationError

RANDOM_STATE = 42
TEST_SIZE = 0.2
CV_FOLDS = 5  # cross-validated MAE on the training part: a steadier quality figure than one split on small data
HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "baseline": {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1, "subsample": 1.0},
    "optimized": {"n_estimators": 40, "max_depth": 2, "learning_rate": 0.2, "subsample": 0.7},
}


@dataclass(frozen=True)
class TrainingOutcome:
    mode: str
    mae: float
    rows_train: int
    rows_test: int
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    hyperparameters: dict[str, Any]
    preprocessing: str
    target_mean: float
    cv_mae: float
    cv_folds: int


def load_estimators() -> None:
    """Import what training uses, so a measured run does not pay for the process's first imports (~0.4 s)."""
    import sklearn.compose  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.impute  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401


def check_trainable(frame: Any, target: str) -> None:
    """Refuse data that cannot be trained on, naming what is wrong."""
    import pandas as pd

    if frame is None or len(frame) == 0:
        raise ValidationError("dataset", "the dataset has no rows")
    if target not in frame.columns:
        raise ValidationError("target", f"column {target!r} is not in the dataset (columns: {', '.join(map(str, frame.columns[:20]))})")
    if not pd.api.types.is_numeric_dtype(frame[target]):
        raise ValidationError("target", f"column {target!r} is not numeric: regression needs a numeric target")
    if frame[target].notna().sum() < 10:
        raise ValidationError("dataset", "fewer than 10 rows with a target value")
    if len(frame.columns) < 2:
        raise ValidationError("dataset", "no feature columns besides the target")


def build_pipeline(mode: str, numeric: list[str], categorical: list[str]) -> tuple[Any, str]:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if mode not in HYPERPARAMETERS:
        raise ValidationError("mode", f"unknown mode {mode!r}")
    categorical_steps = Pipeline([
        ("impute", SimpleImputer(strategy="most_frequent")),
        ("encode", OneHotEncoder(handle_unknown="ignore")),
    ])
    if mode == "baseline":
        numeric_steps = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
        description = "numeric: median imputation + standard scaling; categorical: mode imputation + one-hot"
    else:
        # Trees need no scaling: the optimized pipeline drops it.
        numeric_steps = Pipeline([("impute", SimpleImputer(strategy="median"))])
        description = "numeric: median imputation; categorical: mode imputation + one-hot"
    preprocess = ColumnTransformer([("num", numeric_steps, numeric), ("cat", categorical_steps, categorical)])
    model = GradientBoostingRegressor(random_state=RANDOM_STATE, **HYPERPARAMETERS[mode])
    return Pipeline([("preprocess", preprocess), ("model", model)]), description


def feature_columns(frame: Any, target: str) -> tuple[list[str], list[str]]:
    import pandas as pd

    features = [c for c in frame.columns if c != target]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [c for c in features if c not in numeric]
    return numeric, categorical


def train_and_score(frame: Any, target: str, mode: str) -> tuple[TrainingOutcome, Any]:
    """Cross-validate on the 80 % training split, fit on it, score MAE on the held-out 20 %; returns outcome and pipeline."""
    from sklearn.metrics import mean_absolute_error
    from sklearn.model_selection import KFold, cross_val_score, train_test_split

    check_trainable(frame, target)
    frame = frame[frame[target].notna()].drop(columns=[c for c in ID_COLUMN_NAMES if c in frame.columns])
    numeric, categorical = feature_columns(frame, target)
    pipeline, description = build_pipeline(mode, numeric, categorical)
    features = frame[numeric + categorical]
    x_train, x_test, y_train, y_test = train_test_split(
        features, frame[target], test_size=TEST_SIZE, random_state=RANDOM_STATE
    )
    folds = KFold(n_splits=CV_FOLDS, shuffle=True, random_state=RANDOM_STATE)
    cv_scores = cross_val_score(pipeline, x_train, y_train, cv=folds, scoring="neg_mean_absolute_error")
    pipeline.fit(x_train, y_train)
    mae = float(mean_absolute_error(y_test, pipeline.predict(x_test)))
    return TrainingOutcome(
        mode=mode,
        mae=mae,
        rows_train=len(x_train),
        rows_test=len(x_test),
        numeric_features=tuple(numeric),
        categorical_features=tuple(categorical),
        hyperparameters=dict(HYPERPARAMETERS[mode]),
        preprocessing=description,
        target_mean=float(frame[target].mean()),
        cv_mae=float(-cv_scores.mean()),
        cv_folds=CV_FOLDS,
    ), pipeline


ID_COLUMN_NAMES = ("id", "Id", "ID", "row_id", "RowId")


@dataclass(frozen=True)
class Predictions:
    id_column: str
    frame: Any  # pandas.DataFrame with the id column and the prediction


def check_predictable(train: Any, test: Any, target: str) -> list[str]:
    """The training features the test CSV shares; refuse when it shares none."""
    if test is None or len(test) == 0:
        raise ValidationError("test_dataset", "the test CSV has no rows")
    features = [c for c in train.columns if c != target and c not in ID_COLUMN_NAMES]
    shared = [c for c in features if c in test.columns]
    if not shared:
        raise ValidationError("test_dataset", f"no feature columns in common with the training data "
                                              f"(training has {', '.join(map(str, features[:10]))})")
    return shared


def predict(pipeline: Any, train: Any, test: Any, target: str) -> Predictions:
    """Predict the target for every test row; features the test lacks are imputed as missing, the id is kept."""
    import pandas as pd

    numeric, categorical = feature_columns(train.drop(columns=[c for c in ID_COLUMN_NAMES if c in train.columns]), target)
    id_column = next((c for c in ID_COLUMN_NAMES if c in test.columns), "row")
    features = test.reindex(columns=numeric + categorical)
    ids = test[id_column] if id_column in test.columns else pd.Series(range(len(test)), name="row")
    return Predictions(id_column, pd.DataFrame({id_column: ids.to_numpy(), target: pipeline.predict(features)}))
