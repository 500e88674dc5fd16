"""The question-grading engine: pure Python, no Django.

- :mod:`.base`: the registry of question types (:class:`Grader`, :func:`register`)
- :mod:`.questions`: the question document (:func:`parse_question`, :class:`Question`)
- one module per family of types: :mod:`.single_choice`, :mod:`.multiple_response`,
  :mod:`.numeric`, :mod:`.text_input`, :mod:`.fill_blanks`, :mod:`.ordering`, :mod:`.matching`
- :mod:`.presentation`: the learner-safe view (:func:`present`) and :func:`solution`
- :mod:`.feedback`: grading a try with its penalty (:func:`grade_try`) and :func:`reveal`
- :mod:`.selection`: drawing an attempt's questions from a pool (:func:`draw`)
"""

from eduvault.cores.grading import (  # noqa: F401  (each registers its graders)
    fill_blanks,
    matching,
    multiple_response,
    numeric,
    ordering,
    single_choice,
    text_input,
)
from eduvault.cores.grading.base import Grade, Grader, grader_for, question_types, register, unregister
from eduvault.cores.grading.feedback import TryResult, grade_try, reveal
from eduvault.cores.grading.presentation import present, searchable_text, solution
from eduvault.cores.grading.questions import Question, parse_question, question_schema
from eduvault.cores.grading.selection import draw

__all__ = [
    "Grade",
    "Grader",
    "Question",
    "TryResult",
    "draw",
    "grade_try",
    "grader_for",
    "parse_question",
    "present",
    "question_schema",
    "question_types",
    "register",
    "reveal",
    "searchable_text",
    "solution",
    "unregister",
]
