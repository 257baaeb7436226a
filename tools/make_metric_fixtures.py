#!/usr/bin/env python3
"""scikit-learn's classification_report(digits=2) and confusion_matrix for fixed predictions
(development only; `pip install scikit-learn`):

    python3 tools/make_metric_fixtures.py    # writes Tests/Fixtures/metrics/reports.json
"""
import json
import os
import random

import sklearn
from sklearn.metrics import classification_report, confusion_matrix

random.seed(4)
cases = [
    (["happy", "normal", "sad"], [0, 1, 2, 2, 1, 0, 2, 2], [0, 2, 2, 2, 1, 1, 2, 0]),
    (["happy", "normal", "sad"], [0, 0, 1, 1, 2, 2], [2, 2, 2, 2, 2, 2]),          # zero division
    (["happy", "normal", "sad"], [0, 0, 0, 2, 2], [0, 1, 0, 2, 0]),                # a class without support
    (["a", "much-longer-class-name"], [0, 1, 1, 1], [0, 1, 0, 1]),
]
for n in (200, 865):
    truth = [random.randrange(3) for _ in range(n)]
    cases.append((["happy", "normal", "sad"], truth, [t if random.random() < 0.8 else random.randrange(3) for t in truth]))
out = []
for names, truth, pred in cases:
    labels = list(range(len(names)))
    out.append({
        "classes": names, "truth": truth, "predicted": pred,
        "report": classification_report(truth, pred, labels=labels, target_names=names, digits=2, zero_division=0),
        "confusion": confusion_matrix(truth, pred, labels=labels).tolist(),
    })
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "metrics", "reports.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "cases": out}, f, indent=1)
print(f"{path}: {len(out)} cases")
