"""Mastery estimation by Bayesian knowledge tracing: pure Python, no Django.

- :mod:`.bkt`: :class:`BktParams`, the online update (:func:`posterior`, :func:`transition`,
  :func:`update`, :func:`trace`) and :func:`predict_correct`, in plain floats
- :mod:`.rules`: mastery rules (``bkt`` threshold, Kolibri's ``m_of_n`` and ``streak``),
  built from JSON specs with :func:`rule_from_spec`
- :mod:`.fit`: :func:`fit_parameters` and :func:`pybkt_states` (needs the optional pyBKT,
  ``pip install 'eduvault[mastery]'``, imported only when called)
"""

from eduvault.cores.mastery.bkt import (
    DEFAULT_PARAMS,
    BktParams,
    parse_answers,
    posterior,
    predict_correct,
    trace,
    transition,
    update,
)
from eduvault.cores.mastery.fit import FitFailed, MissingDependency, fit_parameters, pybkt_states
from eduvault.cores.mastery.rules import (
    BktThreshold,
    MOfN,
    Rule,
    Streak,
    register,
    rule_from_spec,
    rule_names,
)

__all__ = [
    "DEFAULT_PARAMS",
    "BktParams",
    "BktThreshold",
    "FitFailed",
    "MOfN",
    "MissingDependency",
    "Rule",
    "Streak",
    "fit_parameters",
    "parse_answers",
    "posterior",
    "predict_correct",
    "pybkt_states",
    "register",
    "rule_from_spec",
    "rule_names",
    "trace",
    "transition",
    "update",
]
