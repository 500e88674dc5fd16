"""The realistic course of the product demo: Form 3 mathematics for the Malawi School
Certificate of Education (MSCE), as an Open edX course run holds it.

The content is plain data, :data:`TOPICS`, nested as Studio nests it::

    topic      (chapter)    = (title, (subtopic, ...))
    subtopic   (sequential) = (title, settings, (unit, ...))
    unit       (vertical)   = (title, (component, ...))
    component               = (block_type, title) or ("problem", title, weight)

:func:`msce_mathematics` walks it with :func:`add_topic`, the one builder, which the demo also
uses to add :data:`DEMO_TARGETS` ``["new_topic_outline"]`` as a new topic. Block ids are the
MD5 of the block's path of titles, so every build gives the same 32-hex Studio-style keys.

Each topic ends with a graded topic test, due on the Friday of its week at 17:00 Malawi time
(15:00 UTC): weekly through Term 1 (5 January to 2 April 2026), then, after the April break,
through Term 2 from 8 May. A few subtopics are graded homework, due that Wednesday.
"""

# Titles use real mathematical symbols (minus, times and prime signs), as a teacher writes them.

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, TypeAlias

from eduvault.integrations.openedx.simulator.course import SimulatedCourse

Component: TypeAlias = tuple[str, str] | tuple[str, str, float]
Unit: TypeAlias = tuple[str, tuple[Component, ...]]
Subtopic: TypeAlias = tuple[str, Mapping[str, Any], tuple[Unit, ...]]
Topic: TypeAlias = tuple[str, tuple[Subtopic, ...]]

COURSE_TITLE = "Mathematics for MSCE — Form 3"
COURSE_START = "2026-01-05T07:30:00Z"
#: 17:00 in Malawi (CAT, UTC+2).
DUE_TIME = "T15:00:00Z"


def _test(date: str) -> dict[str, Any]:
    return {"graded": True, "format": "Topic Test", "due": date + DUE_TIME}


def _homework(date: str) -> dict[str, Any]:
    return {"graded": True, "format": "Homework", "due": date + DUE_TIME}


SECTION_A = "Section A: short answers"
SECTION_B = "Section B: structured questions"

TOPICS: tuple[Topic, ...] = (
    # -- Term 1 ---------------------------------------------------------------------------
    (
        "Polynomials",
        (
            (
                "Adding, subtracting and multiplying polynomials",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: terms, degree and coefficients of a polynomial"),
                            ("video", "Video: multiplying (2x − 1)(x² + 3x − 4)"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("problem", "Problem: expand and simplify (x + 2)(x² − x + 5)", 1.0),
                            ("problem", "Problem: state the degree of 4x³ − 2x⁵ + 7", 1.0),
                        ),
                    ),
                    (
                        "Check your understanding",
                        (("problem", "Problem: subtract 3x² − 2x + 1 from 5x² + x − 4", 1.0),),
                    ),
                ),
            ),
            (
                "Long division of polynomials",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: dividing x³ − 2x² − 5x + 6 by (x − 1)"),
                            ("html", "Reading: setting out polynomial long division"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("html", "Reading: dividing when a power of x is missing"),
                            ("problem", "Problem: divide 2x³ + x² − 13x + 6 by (x − 2)", 2.0),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: quotient and remainder of (x³ + 4x − 1) ÷ (x + 1)", 1.0),
                            ("problem", "Problem: divide 6x³ − 7x² − x + 2 by (x − 1)", 2.0),
                        ),
                    ),
                ),
            ),
            (
                "The remainder and factor theorems",
                _homework("2026-01-21"),
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: why f(a) is the remainder on dividing by (x − a)"),
                            ("video", "Video: factorising x³ − 6x² + 11x − 6 with the factor theorem"),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: remainder when x³ + 2x² − 5 is divided by (x − 2)", 1.0),
                            ("problem", "Problem: find k if (x − 2) is a factor of x³ + kx² + x − 6", 2.0),
                        ),
                    ),
                    (
                        "Check your understanding",
                        (
                            ("problem", "Problem: factorise 2x³ + 3x² − 11x − 6 completely", 2.0),
                            ("discussion", "Discussion: questions on the factor theorem"),
                        ),
                    ),
                ),
            ),
            (
                "Topic test: Polynomials",
                _test("2026-01-23"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: expand (x − 3)(2x² + x − 1)", 1.0),
                            ("problem", "Problem: remainder when 3x³ − x + 4 is divided by (x + 1)", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (
                            (
                                "problem",
                                "Problem: show (x + 1) is a factor of x³ + 3x² − x − 3 and factorise",
                                2.0,
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
    (
        "Quadratic Equations",
        (
            (
                "Factorising quadratic expressions",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: factorising x² + bx + c and ax² + bx + c"),
                            ("video", "Video: factorising 6x² + x − 2"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("html", "Reading: solving by factorisation and the zero product rule"),
                            ("video", "Video: solving x² − 5x + 6 = 0"),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: factorise x² − 7x + 12", 1.0),
                            ("problem", "Problem: factorise 4x² − 25", 1.0),
                            ("problem", "Problem: solve 2x² − 3x − 2 = 0", 1.0),
                        ),
                    ),
                ),
            ),
            (
                "Completing the square",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: completing the square for x² + 6x + 5"),
                            ("html", "Reading: writing x² + bx in the form (x + p)² − q"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("html", "Reading: completing the square when a ≠ 1"),
                            ("problem", "Problem: write x² − 8x + 3 in the form (x − a)² − b", 1.0),
                        ),
                    ),
                    (
                        "Check your understanding",
                        (("problem", "Problem: solve x² + 4x − 1 = 0 by completing the square", 2.0),),
                    ),
                ),
            ),
            (
                "The quadratic formula",
                _homework("2026-01-28"),
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: deriving the quadratic formula from ax² + bx + c = 0"),
                            ("html", "Reading: the discriminant b² − 4ac and the nature of the roots"),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: solve 3x² − 5x − 1 = 0, giving answers to 2 d.p.", 2.0),
                            ("problem", "Problem: nature of the roots of 4x² − 4x + 1 = 0", 1.0),
                        ),
                    ),
                ),
            ),
            (
                "Word problems leading to quadratics",
                {},
                (
                    (
                        "Worked examples",
                        (
                            ("video", "Video: a rectangular garden 3 m longer than it is wide"),
                            ("html", "Reading: forming the equation and rejecting impossible roots"),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: two consecutive odd numbers whose product is 143", 1.0),
                            ("discussion", "Discussion: when is a negative root not an answer?"),
                        ),
                    ),
                    (
                        "Check your understanding",
                        (
                            (
                                "problem",
                                "Problem: when does a ball with height h = 20t − 5t² reach 15 m?",
                                2.0,
                            ),
                        ),
                    ),
                ),
            ),
            (
                "Topic test: Quadratic Equations",
                _test("2026-01-30"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: solve x² + x − 20 = 0", 1.0),
                            ("problem", "Problem: complete the square for x² − 10x + 7", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (
                            (
                                "problem",
                                "Problem: a photo frame of area 80 cm², 2 cm longer than it is wide",
                                2.0,
                            ),
                            ("problem", "Problem: solve 5x² + 2x − 4 = 0 using the quadratic formula", 2.0),
                        ),
                    ),
                ),
            ),
        ),
    ),
    (
        "Simultaneous Equations",
        (
            (
                "Linear simultaneous equations by elimination",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: making the coefficients of one unknown equal"),
                            ("video", "Video: solving 2x + 3y = 12 and 5x − 3y = 9"),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: solve 3x + 2y = 7 and x − 2y = 5", 1.0),),
                    ),
                    (
                        "Check your understanding",
                        (("problem", "Problem: solve 5x + 2y = 16 and 3x − 4y = 20", 1.0),),
                    ),
                ),
            ),
            (
                "Linear simultaneous equations by substitution",
                {},
                (
                    (
                        "Worked examples",
                        (
                            ("video", "Video: solving y = 2x − 1 and 3x + y = 9"),
                            ("problem", "Problem: solve x + 4y = 11 and 2x − y = 4", 1.0),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            (
                                "problem",
                                "Problem: the price of pens and exercise books at a Lilongwe shop",
                                2.0,
                            ),
                        ),
                    ),
                ),
            ),
            (
                "One linear and one quadratic equation",
                _homework("2026-02-04"),
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: substituting the linear equation into the quadratic one"),
                            ("video", "Video: solving y = x + 1 and x² + y² = 25"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: solve x − y = 2 and xy = 15", 2.0),),
                    ),
                    (
                        "Check your understanding",
                        (
                            (
                                "problem",
                                "Problem: where does the line y = 2x + 3 meet the curve y = x²?",
                                1.0,
                            ),
                            ("discussion", "Discussion: how many points can a line and a parabola share?"),
                        ),
                    ),
                ),
            ),
            (
                "Solving simultaneous equations graphically",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: reading the solution at the point of intersection"),
                            ("html", "Reading: drawing accurate straight-line graphs"),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: solve x + y = 5 and y = 2x − 1 graphically", 1.0),),
                    ),
                ),
            ),
            (
                "Topic test: Simultaneous Equations",
                _test("2026-02-06"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: solve 4x − y = 10 and 2x + y = 8", 1.0),
                            ("problem", "Problem: solve y = x − 1 and 2x + y = 11 by substitution", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (
                            ("problem", "Problem: solve y = 3 − x and x² + y² = 5", 2.0),
                            ("problem", "Problem: adult and student tickets for a school concert", 2.0),
                        ),
                    ),
                ),
            ),
        ),
    ),
    (
        "Sets",
        (
            (
                "Set notation and types of sets",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: the universal set, subsets and the complement A′"),
                            ("video", "Video: n(A ∪ B) = n(A) + n(B) − n(A ∩ B)"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            (
                                "problem",
                                "Problem: A ∩ B and A ∪ B for A = {1, 2, 3, 4} and B = {3, 4, 5}",
                                1.0,
                            ),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: list all the subsets of {a, b, c}", 1.0),),
                    ),
                ),
            ),
            (
                "Venn diagrams with three sets",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: shading regions such as A ∩ B′ ∩ C"),
                            ("html", "Reading: the eight regions of a three-set Venn diagram"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("html", "Reading: filling in a Venn diagram from the centre outwards"),
                            ("problem", "Problem: shade (A ∪ B) ∩ C′", 1.0),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: describe a shaded region in set notation", 1.0),),
                    ),
                ),
            ),
            (
                "Word problems with three sets",
                _homework("2026-02-11"),
                (
                    (
                        "Worked examples",
                        (
                            ("video", "Video: 40 students taking Biology, Chemistry and Physics"),
                            ("html", "Reading: using x for the number in the unknown region"),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            (
                                "problem",
                                "Problem: 60 households in Zomba with a radio, a TV or a newspaper",
                                2.0,
                            ),
                            ("discussion", "Discussion: write your own three-set survey question"),
                        ),
                    ),
                ),
            ),
            (
                "Venn diagrams and probability",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: reading probabilities from a Venn diagram"),
                            ("video", "Video: finding P(A ∪ B) from a two-set diagram"),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: P(a student chosen at random plays netball only)", 1.0),),
                    ),
                ),
            ),
            (
                "Topic test: Sets",
                _test("2026-02-13"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: n(A ∩ B) when n(A ∪ B) = 30, n(A) = 18 and n(B) = 20", 1.0),
                            ("problem", "Problem: the complement of {2, 4, 6} in ξ = {1, 2, …, 8}", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (("problem", "Problem: favourite sports of 50 Form 3 students", 2.0),),
                    ),
                ),
            ),
        ),
    ),
    (
        "Variation",
        (
            (
                "Direct and inverse variation",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: y ∝ x, y ∝ 1/x and the constant of variation"),
                            ("video", "Video: finding the constant k when y ∝ x²"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("problem", "Problem: y ∝ x and y = 12 when x = 4; find y when x = 7", 1.0),
                            ("problem", "Problem: P ∝ 1/V and P = 100 when V = 3; find P when V = 5", 1.0),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            (
                                "problem",
                                "Problem: 6 builders take 10 days to build a wall; how long for 4?",
                                2.0,
                            ),
                        ),
                    ),
                ),
            ),
            (
                "Joint variation",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: z varies jointly as x and y"),
                            ("html", "Reading: writing z = kxy/w² from a statement in words"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            (
                                "video",
                                "Video: heat produced varying jointly as the current squared and the time",
                            ),
                            (
                                "problem",
                                "Problem: z ∝ xy and z = 24 when x = 2, y = 3; find z when x = 5, y = 4",
                                1.0,
                            ),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: the volume of a cylinder varies jointly as r² and h", 1.0),),
                    ),
                ),
            ),
            (
                "Partial variation",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: y = a + bx, a fixed part and a varying part"),
                            ("video", "Video: a taxi fare made of a fixed charge and a charge per km"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: the cost of printing exam papers, partly fixed", 2.0),),
                    ),
                    (
                        "Check your understanding",
                        (
                            ("problem", "Problem: C = a + bn, C = MK5 000 at n = 10, MK8 000 at n = 20", 2.0),
                            ("discussion", "Discussion: examples of partial variation in daily life"),
                        ),
                    ),
                ),
            ),
            (
                "Topic test: Variation",
                _test("2026-02-20"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: y ∝ √x and y = 6 when x = 9; find y when x = 25", 1.0),
                            ("problem", "Problem: y ∝ 1/x² and y = 4 when x = 3; find y when x = 6", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (
                            (
                                "problem",
                                "Problem: force varying inversely as the square of the distance",
                                2.0,
                            ),
                            (
                                "problem",
                                "Problem: a phone bill with a fixed charge and a charge per minute",
                                2.0,
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
    (
        "Mensuration",
        (
            (
                "Surface area and volume of cones",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: slant height and the curved surface area πrl"),
                            ("video", "Video: the volume of a cone, V = ⅓πr²h"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            (
                                "problem",
                                "Problem: slant height and curved surface area for r = 6 cm, h = 8 cm",
                                1.0,
                            ),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: a conical heap of maize 2.8 m across and 1.5 m high", 2.0),),
                    ),
                ),
            ),
            (
                "Surface area and volume of pyramids",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: the volume of a pyramid, V = ⅓ × base area × height"),
                            ("html", "Reading: nets and the surface area of pyramids"),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: volume of a square pyramid, base 10 cm, height 12 cm", 1.0),
                            (
                                "problem",
                                "Problem: total surface area of a square pyramid, base 10 cm, height 12 cm",
                                1.0,
                            ),
                        ),
                    ),
                    (
                        "Check your understanding",
                        (
                            (
                                "problem",
                                "Problem: the height of a pyramid of volume 96 cm³ on a 6 cm square base",
                                2.0,
                            ),
                        ),
                    ),
                ),
            ),
            (
                "Spheres and hemispheres",
                _homework("2026-02-25"),
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: surface area 4πr² and volume ⁴⁄₃πr³"),
                            ("video", "Video: the capacity of a hemispherical bowl of radius 7 cm"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: the radius of a sphere of volume 36π cm³", 1.0),),
                    ),
                    (
                        "Check your understanding",
                        (
                            ("problem", "Problem: a cylindrical water tank with a hemispherical top", 2.0),
                            ("discussion", "Discussion: estimating the volume of a football"),
                        ),
                    ),
                ),
            ),
            (
                "Topic test: Mensuration",
                _test("2026-02-27"),
                (
                    (
                        SECTION_A,
                        (
                            (
                                "problem",
                                "Problem: curved surface area of a cone with r = 5 cm, l = 13 cm",
                                1.0,
                            ),
                            ("problem", "Problem: the volume of a sphere of radius 3 cm in terms of π", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (("problem", "Problem: a cone on a hemisphere of radius 3.5 cm", 2.0),),
                    ),
                ),
            ),
        ),
    ),
    (
        "Trigonometry",
        (
            (
                "Sine and cosine of obtuse angles",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: sin(180° − θ) = sin θ and cos(180° − θ) = −cos θ"),
                            ("video", "Video: the unit circle for angles between 90° and 180°"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            (
                                "problem",
                                "Problem: write cos 140° in terms of the cosine of an acute angle",
                                1.0,
                            ),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: find the obtuse angle θ with sin θ = 0.5", 1.0),),
                    ),
                ),
            ),
            (
                "The sine rule",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: deriving a/sin A = b/sin B = c/sin C"),
                            ("html", "Reading: when to use the sine rule"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("html", "Reading: the ambiguous case of the sine rule"),
                            (
                                "problem",
                                "Problem: in triangle ABC, A = 40°, B = 65° and a = 8 cm; find b",
                                1.0,
                            ),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: a surveyor on the shore of Lake Malawi sights a boat", 2.0),
                            ("discussion", "Discussion: why the sine rule can give two different triangles"),
                        ),
                    ),
                ),
            ),
            (
                "The cosine rule",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: the cosine rule, a² = b² + c² − 2bc cos A"),
                            ("html", "Reading: choosing between the sine rule and the cosine rule"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("problem", "Problem: find a when b = 7 cm, c = 5 cm and A = 60°", 1.0),
                            ("video", "Video: finding an angle when all three sides are known"),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            (
                                "problem",
                                "Problem: the largest angle of a triangle with sides 5, 7 and 8 cm",
                                2.0,
                            ),
                            ("problem", "Problem: the distance between two boats leaving Nkhata Bay", 2.0),
                        ),
                    ),
                ),
            ),
            (
                "Area of a triangle using ½ab sin C",
                _homework("2026-03-04"),
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: area = ½ab sin C for any triangle"),
                            ("video", "Video: the area of a triangular plot of land"),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            (
                                "problem",
                                "Problem: area of triangle PQR with p = 9 cm, q = 12 cm, R = 30°",
                                1.0,
                            ),
                            (
                                "problem",
                                "Problem: find C when the area is 20 cm², a = 8 cm and b = 10 cm",
                                2.0,
                            ),
                        ),
                    ),
                ),
            ),
            (
                "Topic test: Trigonometry",
                _test("2026-03-06"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: find cos 120° without a calculator", 1.0),
                            (
                                "problem",
                                "Problem: area of a triangle with sides 6 cm and 8 cm enclosing 150°",
                                1.0,
                            ),
                        ),
                    ),
                    (
                        SECTION_B,
                        (("problem", "Problem: a triangular field with sides 50 m, 70 m and 80 m", 2.0),),
                    ),
                ),
            ),
        ),
    ),
    (
        "Coordinate Geometry",
        (
            (
                "Distance and midpoint",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: the distance formula from Pythagoras' theorem"),
                            ("video", "Video: the midpoint of the line joining (−2, 5) and (4, −1)"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: find B given A(2, −1) and the midpoint M(5, 3) of AB", 1.0),),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: the distance between A(1, 2) and B(7, 10)", 1.0),),
                    ),
                ),
            ),
            (
                "Gradient and the equation of a straight line",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: gradient as the change in y over the change in x"),
                            ("html", "Reading: the forms y = mx + c and y − y₁ = m(x − x₁)"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: the equation of the line through (2, 3) and (6, 11)", 1.0),),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: the gradient and y-intercept of 3x + 2y = 8", 1.0),),
                    ),
                ),
            ),
            (
                "Parallel and perpendicular lines",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: parallel lines m₁ = m₂, perpendicular lines m₁m₂ = −1"),
                            ("video", "Video: the perpendicular bisector of a line segment"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: show that y = 2x + 1 and 4x − 2y = 7 are parallel", 1.0),),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: the line through (1, −2) perpendicular to y = 3x + 4", 2.0),
                            (
                                "discussion",
                                "Discussion: proving a quadrilateral is a rectangle with gradients",
                            ),
                        ),
                    ),
                ),
            ),
            (
                "Topic test: Coordinate Geometry",
                _test("2026-03-13"),
                (
                    (
                        SECTION_A,
                        (
                            (
                                "problem",
                                "Problem: the midpoint and length of PQ for P(−3, 4) and Q(5, −2)",
                                1.0,
                            ),
                            ("problem", "Problem: the gradient of the line joining (−1, 3) and (3, −5)", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (("problem", "Problem: the line through (4, 1) parallel to 2x − y = 5", 2.0),),
                    ),
                ),
            ),
        ),
    ),
    (
        "Statistics",
        (
            (
                "Grouped frequency tables",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: class intervals, class boundaries and class marks"),
                            ("video", "Video: grouping the masses of 40 Form 3 students"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("html", "Reading: choosing a sensible class width"),
                            ("problem", "Problem: the class boundaries and class width of 40–49", 1.0),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: a frequency table of maize yields per hectare", 1.0),),
                    ),
                ),
            ),
            (
                "Mean of grouped data",
                _homework("2026-03-18"),
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: mean = Σfx ÷ Σf using class marks"),
                            ("html", "Reading: the assumed mean method"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: the mean mass from a grouped frequency table", 1.0),),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: the mean daily rainfall in Blantyre in January", 2.0),
                            ("problem", "Problem: the modal class of the rainfall data", 1.0),
                        ),
                    ),
                ),
            ),
            (
                "Ogives",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: cumulative frequency tables"),
                            ("video", "Video: plotting an ogive at the upper class boundaries"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("video", "Video: reading the median and quartiles from an ogive"),
                            ("problem", "Problem: estimate the interquartile range of test marks", 2.0),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: how many students scored more than 65%?", 1.0),),
                    ),
                ),
            ),
            (
                "Topic test: Statistics",
                _test("2026-03-20"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: the modal class and class marks of a grouped table", 1.0),
                            ("problem", "Problem: the class boundaries of the interval 20–29", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (("problem", "Problem: draw an ogive and estimate the median and quartiles", 2.0),),
                    ),
                ),
            ),
        ),
    ),
    (
        "Probability",
        (
            (
                "Experimental and theoretical probability",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: outcomes, events and sample spaces"),
                            ("video", "Video: tossing a coin 50 times in class"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            (
                                "problem",
                                "Problem: the relative frequency of sixes in 120 throws of a die",
                                1.0,
                            ),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: the probability of a prime number on a fair die", 1.0),),
                    ),
                ),
            ),
            (
                "Combined events",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: the possibility space for two dice"),
                            ("html", "Reading: mutually exclusive and independent events"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: P(the sum of two dice is 8)", 1.0),),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: P(A or B) for mutually exclusive events", 1.0),
                            ("problem", "Problem: P(A and B) for independent events", 1.0),
                        ),
                    ),
                ),
            ),
            (
                "Tree diagrams",
                _homework("2026-03-25"),
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: picking two sweets from a bag without replacement"),
                            ("html", "Reading: multiply along the branches, add between them"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            (
                                "problem",
                                "Problem: two beads drawn with replacement from 5 red and 3 blue",
                                1.0,
                            ),
                        ),
                    ),
                    (
                        "Check your understanding",
                        (
                            ("problem", "Problem: the probability of rain on at least one of two days", 2.0),
                            ("discussion", "Discussion: with and without replacement"),
                        ),
                    ),
                ),
            ),
            (
                "Topic test: Probability",
                _test("2026-03-27"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: P(not a vowel) for a letter chosen from MALAWI", 1.0),
                            ("problem", "Problem: P(two heads) when two fair coins are tossed", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (("problem", "Problem: a tree diagram for two netball matches", 2.0),),
                    ),
                ),
            ),
        ),
    ),
    # -- Term 2 (after the April break) ---------------------------------------------------
    (
        "Matrices",
        (
            (
                "Order of a matrix and matrix operations",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: the order of a matrix and equal matrices"),
                            ("video", "Video: adding and subtracting 2 × 2 matrices"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: find a and b when two 2 × 2 matrices are equal", 1.0),),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: find 3A − 2B for two 2 × 2 matrices", 1.0),),
                    ),
                ),
            ),
            (
                "Multiplying matrices",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: multiplying rows by columns"),
                            ("html", "Reading: when is the product AB defined?"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: find AB and BA and show that AB ≠ BA", 1.0),),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: price and quantity matrices for a Mzuzu market stall", 2.0),),
                    ),
                ),
            ),
            (
                "Determinant and inverse of a 2 × 2 matrix",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: det A = ad − bc and singular matrices"),
                            ("video", "Video: the inverse of the matrix with rows (3 1) and (5 2)"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: show that AA⁻¹ = I when A has rows (4 3) and (1 1)", 1.0),),
                    ),
                    (
                        "Practice",
                        (
                            (
                                "problem",
                                "Problem: find x if the matrix with rows (x 4) and (3 6) is singular",
                                1.0,
                            ),
                        ),
                    ),
                ),
            ),
            (
                "Solving simultaneous equations using matrices",
                _homework("2026-05-06"),
                (
                    (
                        "Worked examples",
                        (("video", "Video: solving 2x + y = 5 and 3x + 2y = 8 with an inverse matrix"),),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: use matrices to solve 4x − 3y = 6 and x + y = 5", 2.0),
                            ("discussion", "Discussion: what if the determinant is zero?"),
                        ),
                    ),
                ),
            ),
            (
                "Topic test: Matrices",
                _test("2026-05-08"),
                (
                    (
                        SECTION_A,
                        (
                            (
                                "problem",
                                "Problem: the determinant of the matrix with rows (5 2) and (3 4)",
                                1.0,
                            ),
                            ("problem", "Problem: the inverse of the matrix with rows (2 1) and (5 3)", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (("problem", "Problem: solve 3x + 2y = 12 and x + 2y = 8 using matrices", 2.0),),
                    ),
                ),
            ),
        ),
    ),
    (
        "Commercial Arithmetic",
        (
            (
                "Simple interest",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: simple interest, I = PRT ÷ 100"),
                            ("video", "Video: interest on a MK150 000 loan at 12% per annum"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("video", "Video: finding the rate given the principal, time and interest"),
                            ("problem", "Problem: the principal that earns MK36 000 in 4 years at 6%", 1.0),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: simple interest on MK80 000 at 9% for 3 years", 1.0),
                            ("problem", "Problem: how long MK50 000 takes to earn MK15 000 at 10%", 1.0),
                        ),
                    ),
                ),
            ),
            (
                "Compound interest and depreciation",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: A = P(1 + r/100)ⁿ, year by year"),
                            ("html", "Reading: compound interest compared with simple interest"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: MK200 000 saved at 8% compounded annually for 3 years", 2.0),),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: a MK4 500 000 minibus depreciating at 15% a year", 2.0),
                            ("discussion", "Discussion: comparing savings accounts at Malawian banks"),
                        ),
                    ),
                ),
            ),
            (
                "Hire purchase",
                _homework("2026-05-13"),
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: deposit, instalments and the hire purchase price"),
                            ("video", "Video: buying a MK350 000 bicycle on hire purchase"),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            (
                                "problem",
                                "Problem: a MK600 000 fridge, or 20% deposit and 12 instalments of MK48 000",
                                2.0,
                            ),
                        ),
                    ),
                    (
                        "Check your understanding",
                        (
                            (
                                "problem",
                                "Problem: monthly instalments for a MK1 200 000 solar kit over 18 months",
                                2.0,
                            ),
                            ("discussion", "Discussion: is hire purchase ever a good idea?"),
                        ),
                    ),
                ),
            ),
            (
                "Topic test: Commercial Arithmetic",
                _test("2026-05-15"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: simple interest on MK120 000 at 7.5% for 2 years", 1.0),
                            ("problem", "Problem: compound interest on MK100 000 at 10% for 2 years", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (
                            (
                                "problem",
                                "Problem: hire purchase or a bank loan for a MK900 000 motorcycle",
                                2.0,
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
    (
        "Circle Geometry",
        (
            (
                "Angles at the centre and in the same segment",
                {},
                (
                    (
                        "Introduction",
                        (
                            (
                                "html",
                                "Reading: the angle at the centre is twice the angle at the circumference",
                            ),
                            ("video", "Video: why the angle in a semicircle is 90°"),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: find the angles in the same segment", 1.0),),
                    ),
                ),
            ),
            (
                "Cyclic quadrilaterals",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: opposite angles of a cyclic quadrilateral add up to 180°"),
                            ("html", "Reading: the exterior angle of a cyclic quadrilateral"),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: find x and y in the cyclic quadrilateral ABCD", 1.0),),
                    ),
                ),
            ),
            (
                "Tangents to a circle",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: a tangent is perpendicular to the radius"),
                            ("video", "Video: the two tangents from an external point are equal"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (("problem", "Problem: find angles using the alternate segment theorem", 2.0),),
                    ),
                ),
            ),
            (
                "Topic test: Circle Geometry",
                _test("2026-05-22"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: the angle subtended by an arc at the centre", 1.0),
                            ("problem", "Problem: the angle opposite 72° in a cyclic quadrilateral", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (("problem", "Problem: a cyclic quadrilateral with a tangent at A", 2.0),),
                    ),
                ),
            ),
        ),
    ),
    (
        "Inequalities and Linear Programming",
        (
            (
                "Linear inequalities in one variable",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: reversing the sign when multiplying by a negative number"),
                            ("video", "Video: solving 3 − 2x < 11 and showing it on a number line"),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: solve −3 ≤ 2x + 1 < 7", 1.0),),
                    ),
                    (
                        "Check your understanding",
                        (("problem", "Problem: the largest integer x such that 3x + 5 < 20", 1.0),),
                    ),
                ),
            ),
            (
                "Graphs of inequalities in two variables",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: shading the region y ≥ 2x − 1"),
                            ("html", "Reading: broken and solid boundary lines"),
                        ),
                    ),
                    ("Worked examples", (("video", "Video: the region where x ≥ 0, y ≥ 0 and x + y ≤ 6"),)),
                    (
                        "Practice",
                        (("problem", "Problem: the inequalities that define a shaded triangle", 1.0),),
                    ),
                ),
            ),
            (
                "Linear programming",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: forming inequalities from a word problem"),
                            ("video", "Video: a farmer planting maize and soya beans on 10 hectares"),
                        ),
                    ),
                    (
                        "Worked examples",
                        (
                            ("video", "Video: the objective function and the search line"),
                            (
                                "problem",
                                "Problem: maximise the profit P = 40x + 30y in the feasible region",
                                2.0,
                            ),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: a tailor making school uniforms and dresses", 2.0),
                            ("discussion", "Discussion: where else is linear programming used?"),
                        ),
                    ),
                ),
            ),
            (
                "Topic test: Inequalities and Linear Programming",
                _test("2026-05-29"),
                (
                    (
                        SECTION_A,
                        (
                            ("problem", "Problem: solve 5x − 4 > 2x + 8", 1.0),
                            ("problem", "Problem: the integer values of x with −2 < x ≤ 3", 1.0),
                        ),
                    ),
                    (
                        SECTION_B,
                        (("problem", "Problem: hiring small and large buses for a school trip", 2.0),),
                    ),
                ),
            ),
        ),
    ),
)

#: The blocks the demo edits, by display name, and what it changes them to.
DEMO_TARGETS: dict[str, Any] = {
    # An ordinary subtopic (sequential) renamed to a clearer title.
    "rename": "Ogives",
    "rename_to": "Cumulative frequency curves (ogives)",
    # Probability from Venn diagrams belongs with the rest of probability.
    "move_subtopic": "Venn diagrams and probability",
    "move_to_topic": "Probability",
    # A subtopic with three units, put in a new order.
    "reorder_subtopic": "The cosine rule",
    # A topic test postponed by a week.
    "due_subtopic": "Topic test: Variation",
    "new_due": "2026-02-27" + DUE_TIME,
    # Circle geometry moves to Form 4: the topic goes, with everything inside it.
    "delete_topic": "Circle Geometry",
    # A new topic, built with add_topic().
    "new_topic": "Sequences and Series",
    "new_topic_outline": (
        "Sequences and Series",
        (
            (
                "Arithmetic progressions",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("html", "Reading: the nth term of an AP, a + (n − 1)d"),
                            ("video", "Video: the sequence 3, 7, 11, 15, …"),
                        ),
                    ),
                    (
                        "Practice",
                        (
                            ("problem", "Problem: the 20th term of 5, 8, 11, …", 1.0),
                            ("problem", "Problem: the sum of the first 30 odd numbers", 1.0),
                        ),
                    ),
                ),
            ),
            (
                "Geometric progressions",
                {},
                (
                    (
                        "Introduction",
                        (
                            ("video", "Video: the common ratio of 2, 6, 18, 54, …"),
                            ("html", "Reading: the nth term arⁿ⁻¹ and the sum of n terms"),
                        ),
                    ),
                    (
                        "Practice",
                        (("problem", "Problem: 2 000 chickens on a farm increasing by 10% a year", 2.0),),
                    ),
                ),
            ),
        ),
    ),
}


def _block_id(*path: str) -> str:
    """A Studio-style 32-hex block id, the same on every build: the MD5 of the title path."""
    return hashlib.md5("/".join(path).encode(), usedforsecurity=False).hexdigest()


def add_topic(course: SimulatedCourse, outline: Topic, *, index: int | None = None) -> str:
    """Add ``outline`` (a topic in the :data:`TOPICS` format) as a chapter of ``course``, at
    ``index`` among the chapters (last by default); return the chapter's usage key."""
    number = course.number
    title, subtopics = outline
    chapter = course.add(course.root, "chapter", title, index=index, block_id=_block_id(number, title))
    for seq_title, settings, units in subtopics:
        sequential = course.add(
            chapter, "sequential", seq_title, block_id=_block_id(number, title, seq_title), **settings
        )
        for unit_title, components in units:
            vertical = course.add(
                sequential, "vertical", unit_title, block_id=_block_id(number, title, seq_title, unit_title)
            )
            for component in components:
                block_type, name = component[0], component[1]
                extra: dict[str, Any] = {"weight": component[2]} if len(component) == 3 else {}
                course.add(
                    vertical,
                    block_type,
                    name,
                    block_id=_block_id(number, title, seq_title, unit_title, name),
                    **extra,
                )
    return chapter


def msce_mathematics(*, org: str = "MIE", number: str = "MATH-F3", run: str = "2026_T1") -> SimulatedCourse:
    """The demo course: MSCE Form 3 mathematics, 14 topics over Terms 1 and 2 of 2026."""
    course = SimulatedCourse(org, number, run, COURSE_TITLE, start=COURSE_START)
    for topic in TOPICS:
        add_topic(course, topic)
    return course
