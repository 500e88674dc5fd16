"""Estimating BKT parameters from learners' answers with pyBKT, and pyBKT's own predictions.

pyBKT (with pandas and numpy) is an optional dependency, ``pip install 'eduvault[mastery]'``,
imported only when a function here is called. Both functions take ``sequences``: skill name
-> one time-ordered list of outcomes (0 or 1) per learner.

What pyBKT does with the data frame it is given (pyBKT 1.4, ``util/data_helper.py`` and
``fit/predict_onestep.py``), and how this module copes:

- it sorts the caller's frame *in place* by ``order_id`` and then (stably) by ``user_id``,
  and turns ``skill_name`` into strings: we hand it copies, and map its predictions back by
  the index labels we gave the rows, which it keeps;
- it selects skills with a regular expression built from their names, so a name such as
  ``"Fractions (intro)"`` silently gets no predictions: skills go in under plain aliases;
- its ``state_predictions`` for answer ``t`` is P(known) *before* that answer (the prior for
  ``t = 0``, then the transition of the posterior after answer ``t - 1``), which is
  :func:`eduvault.cores.mastery.bkt.trace` shifted by one; ``correct_predictions`` is
  :func:`eduvault.cores.mastery.bkt.predict_correct` of it;
- ``fit(fixed=True)`` after setting ``coef_`` runs EM with every parameter set held fixed,
  so the parameters stay as set; :func:`pybkt_states` checks that they did anyway.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from eduvault.cores.mastery.bkt import BktParams
from eduvault.kernel.errors import EduVaultError, InvalidInput

#: How far a parameter pyBKT hands back after ``fit(fixed=True)`` may be from the one set.
FIXED_TOLERANCE = 1e-12


class MissingDependency(EduVaultError):
    """Fitting knowledge-tracing parameters needs pyBKT; install it with pip install 'eduvault[mastery]'."""

    exit_code = 2


class FitFailed(EduVaultError):
    """pyBKT did not produce usable knowledge-tracing parameters or predictions."""


def _pybkt() -> tuple[Any, Any, Any]:
    """numpy, pandas and pyBKT's ``Model``, or MissingDependency."""
    try:
        import numpy as np
        import pandas as pd

        # Importing pyBKT sets pandas' display float format for the whole process; keep ours.
        with pd.option_context("display.float_format", pd.get_option("display.float_format")):
            from pyBKT.models import Model  # type: ignore[import-untyped]
    except ImportError as exc:
        raise MissingDependency(
            f"fitting knowledge-tracing parameters needs pyBKT, pandas and numpy ({exc}); "
            "install them with pip install 'eduvault[mastery]'"
        ) from exc
    return np, pd, Model


@contextmanager
def _quiet(np: Any, pd: Any) -> Iterator[None]:
    """Around pyBKT calls: its EM step divides by zero on degenerate data and cleans up after
    itself (we check the results instead), it trips numpy 1.25+'s deprecation of converting
    1-element arrays to scalars, and it switches pandas' chained-assignment warning off for
    the whole process (restored here)."""
    with (
        warnings.catch_warnings(),
        np.errstate(all="ignore"),
        pd.option_context("mode.chained_assignment", pd.get_option("mode.chained_assignment")),
    ):
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pyBKT")
        yield


def _clean_sequences(sequences: Mapping[str, Sequence[Sequence[int]]]) -> dict[str, list[list[int]]]:
    """The sequences as plain lists of 0/1 ints, or InvalidInput pointing at the bad item."""
    if not isinstance(sequences, Mapping):
        raise InvalidInput(
            f"sequences must map skill names to answer sequences, got {type(sequences).__name__}"
        )
    clean: dict[str, list[list[int]]] = {}
    for skill, per_learner in sequences.items():
        if not isinstance(skill, str) or not skill:
            raise InvalidInput(f"skill names must be non-empty strings, got {skill!r}", field="sequences")
        if isinstance(per_learner, (str, bytes)) or not isinstance(per_learner, Sequence):
            raise InvalidInput(f"sequences[{skill!r}] must be a list of answer sequences", field="sequences")
        rows: list[list[int]] = []
        for i, answers in enumerate(per_learner):
            if isinstance(answers, (str, bytes)) or not isinstance(answers, Sequence):
                raise InvalidInput(
                    f"sequences[{skill!r}][{i}] must be a list of 0/1 answers", field="sequences"
                )
            row: list[int] = []
            for j, answer in enumerate(answers):
                if not isinstance(answer, numbers.Integral) or answer not in (0, 1):
                    raise InvalidInput(
                        f"sequences[{skill!r}][{i}][{j}]: {answer!r} is not 0 or 1", field="sequences"
                    )
                row.append(int(answer))
            rows.append(row)
        clean[skill] = rows
    return clean


def _frame(
    pd: Any, sequences: Mapping[str, list[list[int]]]
) -> tuple[Any, dict[str, str], list[tuple[str, int, int]]]:
    """One data frame for pyBKT (index 0..N-1), the skill aliases it uses, and what each row is.

    ``order_id`` increases with time within every sequence, each (skill, sequence) is its own
    ``user_id``, and ``rows[k] = (skill, sequence index, answer index)`` for index label ``k``.
    """
    aliases = {skill: f"skill{number}" for number, skill in enumerate(sequences)}
    order_ids: list[int] = []
    user_ids: list[int] = []
    skills: list[str] = []
    corrects: list[int] = []
    rows: list[tuple[str, int, int]] = []
    user_id = 0
    for skill, per_learner in sequences.items():
        for s, answers in enumerate(per_learner):
            if not answers:
                continue
            user_id += 1
            for t, answer in enumerate(answers):
                order_ids.append(len(order_ids) + 1)
                user_ids.append(user_id)
                skills.append(aliases[skill])
                corrects.append(answer)
                rows.append((skill, s, t))
    frame = pd.DataFrame(
        {"order_id": order_ids, "user_id": user_ids, "skill_name": skills, "correct": corrects},
        columns=["order_id", "user_id", "skill_name", "correct"],
    )
    return frame, aliases, rows


def _scalar(value: Any) -> float:
    """pyBKT keeps the prior as a number and the other parameters as 1-element arrays."""
    if hasattr(value, "__len__"):
        if len(value) != 1:
            raise FitFailed(f"expected one value per parameter from pyBKT, got {len(value)}")
        value = value[0]
    return float(value)


def _params_from_coef(skill: str, coef: Mapping[str, Any]) -> BktParams:
    values = {
        "prior": _scalar(coef["prior"]),
        "learn": _scalar(coef["learns"]),
        "guess": _scalar(coef["guesses"]),
        "slip": _scalar(coef["slips"]),
    }
    for name, value in values.items():
        if not math.isfinite(value):
            raise FitFailed(f"pyBKT fitted {name} = {value} for skill {skill!r}", skill=skill)
        # Rounding may stray past a bound by an ulp; the model's probabilities cannot.
        values[name] = min(1.0, max(0.0, value))
    return BktParams(**values)


def fit_parameters(
    sequences: Mapping[str, Sequence[Sequence[int]]], *, num_fits: int = 5, seed: int = 42
) -> dict[str, BktParams]:
    """Fit each skill's BKT parameters (no forgetting) to its learners' answers with pyBKT.

    ``num_fits`` EM runs from random starting points are made per skill and the most likely
    kept; ``seed`` makes the result reproducible. Skills with fewer than 2 answers in all are
    left out of the result.
    """
    np, pd, Model = _pybkt()
    if isinstance(num_fits, bool) or not isinstance(num_fits, numbers.Integral) or num_fits < 1:
        raise InvalidInput(f"num_fits must be a positive integer, got {num_fits!r}", field="num_fits")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise InvalidInput(f"seed must be an integer in [0, 2**32), got {seed!r}", field="seed")
    clean = _clean_sequences(sequences)
    usable = {skill: rows for skill, rows in clean.items() if sum(map(len, rows)) >= 2}
    if not usable:
        return {}
    frame, aliases, _ = _frame(pd, usable)
    model = Model(seed=int(seed), num_fits=int(num_fits), parallel=False)
    with _quiet(np, pd):
        model.fit(data=frame.copy(), forgets=False)
    coef = model.coef_
    return {skill: _params_from_coef(skill, coef[alias]) for skill, alias in aliases.items()}


def pybkt_states(
    params_by_skill: Mapping[str, BktParams], sequences: Mapping[str, Sequence[Sequence[int]]]
) -> dict[str, list[list[tuple[float, float]]]]:
    """pyBKT's one-step-ahead predictions for fixed parameters: per skill, per sequence, per
    answer ``(state_prediction, correct_prediction)``, i.e. P(known) before the answer and
    P(correct) for it, as pyBKT computes them.

    Every skill in ``sequences`` needs parameters. Raises FitFailed if pyBKT moved a
    parameter it was told to keep, or if its output does not line up with the input.
    """
    np, pd, Model = _pybkt()
    clean = _clean_sequences(sequences)
    missing = [skill for skill in clean if skill not in params_by_skill]
    if missing:
        raise InvalidInput(f"no BKT parameters for skill {missing[0]!r}", field="params_by_skill")
    result: dict[str, list[list[tuple[float, float]]]] = {
        skill: [[] for _ in rows] for skill, rows in clean.items()
    }
    answered = {skill: rows for skill, rows in clean.items() if any(rows)}
    if not answered:
        return result
    frame, aliases, rows = _frame(pd, answered)

    wanted: dict[str, dict[str, float]] = {}
    coef: dict[str, dict[str, Any]] = {}
    for skill, alias in aliases.items():
        p = params_by_skill[skill]
        if not isinstance(p, BktParams):
            raise InvalidInput(f"parameters for skill {skill!r} must be BktParams", field="params_by_skill")
        wanted[alias] = {
            "prior": p.prior,
            "learns": p.learn,
            "guesses": p.guess,
            "slips": p.slip,
            "forgets": 0.0,
        }
        coef[alias] = {
            "prior": p.prior,
            "learns": np.array([p.learn]),
            "guesses": np.array([p.guess]),
            "slips": np.array([p.slip]),
            "forgets": np.array([0.0]),
        }

    model = Model(seed=0, num_fits=1, parallel=False)
    model.coef_ = coef
    with _quiet(np, pd):
        model.fit(data=frame.copy(), fixed=True)
        _check_kept(model.coef_, wanted, {alias: skill for skill, alias in aliases.items()})
        predicted = model.predict(data=frame.copy())

    # pyBKT reorders the rows but keeps their index labels: put them back in our order.
    predicted = predicted.sort_index()
    if list(predicted.index) != list(range(len(frame))) or not all(
        (predicted[column].to_numpy() == frame[column].to_numpy()).all()
        for column in ("order_id", "user_id", "correct")
    ):
        raise FitFailed("pyBKT's predictions do not line up with the answers sent")
    states = predicted["state_predictions"].to_numpy(dtype=float)
    corrects = predicted["correct_predictions"].to_numpy(dtype=float)
    for k, (skill, s, t) in enumerate(rows):
        state, correct = float(states[k]), float(corrects[k])
        if not (math.isfinite(state) and math.isfinite(correct)):
            raise FitFailed(f"pyBKT predicted {state}, {correct} for skill {skill!r}", skill=skill)
        # The first prediction of every sequence is the prior: a cheap check of the alignment.
        if t == 0 and abs(state - params_by_skill[skill].prior) > 1e-9:
            raise FitFailed(
                f"pyBKT's first state prediction for skill {skill!r} is {state}, not the prior", skill=skill
            )
        result[skill][s].append((state, correct))
    return result


def _check_kept(
    coef: Mapping[str, Mapping[str, Any]],
    wanted: Mapping[str, Mapping[str, float]],
    skills: Mapping[str, str],
) -> None:
    """FitFailed unless pyBKT's parameters after ``fit(fixed=True)`` are the ones set."""
    for alias, values in wanted.items():
        if alias not in coef:
            raise FitFailed(f"pyBKT did not fit skill {skills[alias]!r}", skill=skills[alias])
        for name, value in values.items():
            got = _scalar(coef[alias][name])
            if not abs(got - value) <= FIXED_TOLERANCE:
                raise FitFailed(
                    f"pyBKT changed the fixed parameter {name} of skill {skills[alias]!r} from {value} to {got}",
                    skill=skills[alias],
                )
