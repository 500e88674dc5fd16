"""Deterministic attempt-log records for the morango baseline (stdlib only).

One record = one answer to one question in one attempt of one learner:
    {"id", "learner", "attempt", "question", "answer", "correct", "score", "created"}
``answer`` is JSON text; ``created`` is ISO 8601 UTC.  Record i belongs to attempt
block i // answers_per_attempt, and blocks go round-robin over the learners, so
40 learners x 10 attempts x 20 answers = generate(8000, learners=40, answers_per_attempt=20).

    python records.py 1000 > records.jsonl       # same records run.py generates for N=1000
"""
import argparse
import datetime
import json
import random
import sys
import uuid

BASE_TIME = datetime.datetime(2024, 9, 2, 8, 0, 0, tzinfo=datetime.timezone.utc)


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate(n, learners=40, answers_per_attempt=20, seed=1, learner_prefix="learner"):
    rng = random.Random(seed)
    attempt_id = None
    for i in range(n):
        block, answer_no = divmod(i, answers_per_attempt)
        if answer_no == 0:
            attempt_id = _uuid(rng)
        learner = "{}{:04d}".format(learner_prefix, block % learners)
        correct = rng.random() < 0.7
        yield {
            "id": _uuid(rng),
            "learner": learner,
            "attempt": attempt_id,
            "question": "exercise-{:03d}/q{:02d}".format(block // learners % 1000, answer_no),
            "answer": json.dumps({"response": str(rng.randint(0, 99)), "hinted": rng.random() < 0.1,
                                  "time_spent": round(rng.uniform(2, 90), 1)}, separators=(",", ":")),
            "correct": correct,
            "score": 1.0 if correct else round(rng.choice([0.0, 0.25, 0.5]), 2),
            "created": (BASE_TIME + datetime.timedelta(seconds=i)).isoformat(),
        }


def learners_of(n, learners=40, answers_per_attempt=20, learner_prefix="learner"):
    blocks = (n + answers_per_attempt - 1) // answers_per_attempt
    return ["{}{:04d}".format(learner_prefix, b) for b in range(min(learners, blocks))]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n", type=int)
    p.add_argument("--learners", type=int, default=40)
    p.add_argument("--answers-per-attempt", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--learner-prefix", default="learner")
    a = p.parse_args()
    w = sys.stdout.write
    for rec in generate(a.n, a.learners, a.answers_per_attempt, a.seed, a.learner_prefix):
        w(json.dumps(rec, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
