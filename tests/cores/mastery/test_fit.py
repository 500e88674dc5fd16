"""Fitting with pyBKT, and agreement of our online update with pyBKT's predictions (no database)."""

from __future__ import annotations

import importlib.util
import re
import sys

import numpy as np
import pytest

from eduvault.cores.mastery import (
    BktParams,
    FitFailed,
    MissingDependency,
    fit_parameters,
    predict_correct,
    pybkt_states,
    trace,
)
from eduvault.kernel.errors import EduVaultError, InvalidInput

needs_pybkt = pytest.mark.skipif(importlib.util.find_spec("pyBKT") is None, reason="pyBKT is not installed")


def simulate(params: BktParams, learners: int, rng: np.random.Generator, lengths=(1, 40)) -> list[list[int]]:
    """Answer sequences drawn from the BKT generative process (no forgetting): the learner
    knows the skill with the prior, answers (guessing or slipping), then may learn it."""
    sequences = []
    for _ in range(learners):
        knows = rng.random() < params.prior
        answers = []
        for _ in range(int(rng.integers(lengths[0], lengths[1] + 1))):
            correct = rng.random() >= params.slip if knows else rng.random() < params.guess
            answers.append(int(correct))
            if not knows and rng.random() < params.learn:
                knows = True
        sequences.append(answers)
    return sequences


def random_params(rng: np.random.Generator) -> BktParams:
    return BktParams(
        prior=rng.uniform(0.05, 0.6),
        learn=rng.uniform(0.02, 0.4),
        guess=rng.uniform(0.05, 0.3),
        slip=rng.uniform(0.02, 0.2),
    )


# -- agreement with pyBKT --------------------------------------------------------------------


@needs_pybkt
def test_online_updates_agree_with_pybkt_to_1e_6():
    rng = np.random.default_rng(20240611)
    # Names with regex metacharacters: pyBKT selects skills by regex, the aliases must cope.
    names = ["Fractions (intro)", "a+b", "x.*", "Quadratics", "[sets]"]
    params = {name: random_params(rng) for name in names}
    sequences = {name: simulate(params[name], 35, rng) for name in names}

    states = pybkt_states(params, sequences)

    compared, worst_state, worst_correct = 0, 0.0, 0.0
    for name in names:
        p = params[name]
        assert len(states[name]) == len(sequences[name])
        for answers, predicted in zip(sequences[name], states[name], strict=True):
            assert len(predicted) == len(answers)
            # pyBKT's state prediction for answer t is P(known) before it: the prior, then ours after t-1.
            before = [p.prior, *trace(p, answers)[:-1]]
            for ours, (state, correct) in zip(before, predicted, strict=True):
                worst_state = max(worst_state, abs(ours - state))
                worst_correct = max(worst_correct, abs(predict_correct(ours, p) - correct))
                compared += 1
    assert compared == sum(len(a) for seqs in sequences.values() for a in seqs) > 500
    assert worst_state <= 1e-6
    assert worst_correct <= 1e-6


@needs_pybkt
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pyBKT's own, under numpy >= 1.25
def test_pybkt_keeps_the_parameters_set_when_fit_with_fixed_true():
    import pandas as pd
    from pyBKT.models import Model

    rng = np.random.default_rng(7)
    p = random_params(rng)
    rows = []
    for user, answers in enumerate(simulate(p, 40, rng), start=1):
        rows.extend((len(rows) + 1 + t, user, "skill", answer) for t, answer in enumerate(answers))
    data = pd.DataFrame(rows, columns=["order_id", "user_id", "skill_name", "correct"])
    wanted = {
        "prior": p.prior,
        "learns": np.array([p.learn]),
        "guesses": np.array([p.guess]),
        "slips": np.array([p.slip]),
        "forgets": np.array([0.0]),
    }

    fixed = Model(seed=1, num_fits=2, parallel=False)
    fixed.coef_ = {"skill": dict(wanted)}
    fixed.fit(data=data.copy(), fixed=True)
    got = fixed.coef_["skill"]
    assert got["prior"] == pytest.approx(p.prior, abs=1e-12)
    for name in ("learns", "guesses", "slips", "forgets"):
        assert got[name] == pytest.approx(wanted[name], abs=1e-12), name

    # Without fixed=True the values set are only EM's starting point, and move.
    free = Model(seed=1, num_fits=1, parallel=False)
    free.coef_ = {"skill": dict(wanted)}
    free.fit(data=data.copy())
    assert abs(free.coef_["skill"]["slips"][0] - p.slip) > 1e-6


@needs_pybkt
def test_pybkt_states_fails_loudly_if_pybkt_moves_a_fixed_parameter(monkeypatch):
    from pyBKT.models import Model

    original = Model.fit

    def fit_and_drift(self, *args, **kwargs):
        original(self, *args, **kwargs)
        for skill in self.fit_model:
            self.fit_model[skill]["slips"] = self.fit_model[skill]["slips"] + 0.01

    monkeypatch.setattr(Model, "fit", fit_and_drift)
    with pytest.raises(
        FitFailed, match=re.escape("pyBKT changed the fixed parameter slips of skill 'a' from 0.1 to 0.11")
    ):
        pybkt_states({"a": BktParams(0.3, 0.1, 0.2, 0.1)}, {"a": [[1, 0, 1], [1]]})


@needs_pybkt
def test_pybkt_states_fails_loudly_if_predictions_do_not_line_up(monkeypatch):
    from pyBKT.models import Model

    original = Model.predict

    def predict_shuffled(self, *args, **kwargs):
        predicted = original(self, *args, **kwargs)
        predicted["state_predictions"] = np.roll(predicted["state_predictions"].to_numpy(), -1)
        return predicted

    monkeypatch.setattr(Model, "predict", predict_shuffled)
    with pytest.raises(FitFailed, match="not the prior"):
        pybkt_states({"a": BktParams(0.3, 0.1, 0.2, 0.1)}, {"a": [[1, 1, 1, 1], [0, 1]]})


@needs_pybkt
def test_pybkt_states_edge_cases():
    p = BktParams(0.3, 0.1, 0.2, 0.1)
    assert pybkt_states({}, {}) == {}
    assert pybkt_states({"a": p}, {"a": [[], []]}) == {"a": [[], []]}
    states = pybkt_states({"a": p, "b": p, "unused": p}, {"a": [[], [1]], "b": [[0, 1]]})
    assert set(states) == {"a", "b"}
    assert states["a"][0] == []
    assert states["a"][1] == [pytest.approx((0.3, predict_correct(0.3, p)), abs=1e-12)]
    assert [s for s, _ in states["b"][0]] == pytest.approx([0.3, trace(p, [0])[0]], abs=1e-12)
    with pytest.raises(InvalidInput, match="no BKT parameters for skill 'b'"):
        pybkt_states({"a": p}, {"a": [[1]], "b": [[1]]})


# -- fitting -------------------------------------------------------------------------------


@needs_pybkt
def test_fit_parameters_recovers_the_generating_parameters():
    rng = np.random.default_rng(11)
    true = BktParams(prior=0.35, learn=0.15, guess=0.2, slip=0.1)
    sequences = {
        "Linear equations": simulate(true, 300, rng, lengths=(10, 30)),
        "too few answers": [[1], []],
        "no answers": [],
    }

    fitted = fit_parameters(sequences, num_fits=2, seed=3)

    assert set(fitted) == {"Linear equations"}
    got = fitted["Linear equations"]
    assert isinstance(got, BktParams)
    assert all(type(value) is float for value in got.to_dict().values())
    for name, value in true.to_dict().items():
        assert abs(got.to_dict()[name] - value) < 0.1, (name, got)


@needs_pybkt
def test_fit_parameters_is_reproducible_and_leaves_its_input_alone():
    rng = np.random.default_rng(5)
    sequences = {"s": simulate(BktParams(0.3, 0.2, 0.2, 0.1), 20, rng, lengths=(2, 8))}
    before = [list(answers) for answers in sequences["s"]]
    first = fit_parameters(sequences, num_fits=1, seed=9)
    assert fit_parameters(sequences, num_fits=1, seed=9) == first
    assert sequences["s"] == before
    assert fit_parameters({"s": [[1]]}) == {}


@needs_pybkt
@pytest.mark.parametrize(
    ("sequences", "message"),
    [
        ({"s": [[1, 2]]}, r"sequences\['s'\]\[0\]\[1\]: 2 is not 0 or 1"),
        ({"s": [[1, "1"]]}, r"sequences\['s'\]\[0\]\[1\]: '1' is not 0 or 1"),
        ({"s": ["101"]}, r"sequences\['s'\]\[0\] must be a list"),
        ({"": [[1, 0]]}, "skill names must be non-empty strings"),
    ],
)
def test_fit_parameters_validates_its_input(sequences, message):
    with pytest.raises(InvalidInput, match=message):
        fit_parameters(sequences)


@needs_pybkt
def test_fit_parameters_validates_num_fits():
    with pytest.raises(InvalidInput, match="num_fits must be a positive integer"):
        fit_parameters({"s": [[1, 0]]}, num_fits=0)


# -- without pyBKT -----------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["pyBKT.models", "pandas"])
def test_missing_dependency_says_what_to_install(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    for call in (
        lambda: fit_parameters({"s": [[1, 0, 1]]}),
        lambda: pybkt_states({"s": BktParams(0.3, 0.1, 0.2, 0.1)}, {"s": [[1]]}),
    ):
        with pytest.raises(MissingDependency) as caught:
            call()
        error = caught.value
        assert isinstance(error, EduVaultError)
        assert error.exit_code == 2
        assert "pip install 'eduvault[mastery]'" in error.detail
        assert "pyBKT" in error.detail
    assert "pip install 'eduvault[mastery]'" in MissingDependency().detail
