"""Lesson 10: MAE and RMSE for rating prediction, and why RMSE >= MAE always.

Run it: python docs/lessons/10_metrics.py
"""


import numpy as np
from _lesson import FAST, IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk

# --8<-- [start:two_models]
# 2,000 ratings from 1 to 5 stars, and two models that predict them.
rng = np.random.default_rng(0)
ratings = rng.choice([1, 2, 3, 4, 5], size=2000, p=[0.1, 0.1, 0.2, 0.3, 0.3])
# "steady" is a little off on every rating (noise of 0.6 stars) ...
steady = np.clip(ratings + rng.normal(0, 0.6, ratings.size), 1, 5)
# ... "erratic" is nearly exact, except on one rating in ten, where it is off by 2 stars.
erratic = ratings + rng.normal(0, 0.1, ratings.size)
wrong = rng.random(ratings.size) < 0.1
erratic[wrong] = np.where(ratings[wrong] > 3, ratings[wrong] - 2, ratings[wrong] + 2)

for name, predicted in (("steady", steady), ("erratic", erratic)):
    print(f"{name:8s} MAE {gk.metrics.mae(predicted, ratings):.3f}  "
          f"RMSE {gk.metrics.rmse(predicted, ratings):.3f}")
# The two metrics disagree about which model is better.
assert gk.metrics.mae(erratic, ratings) < gk.metrics.mae(steady, ratings)
assert gk.metrics.rmse(erratic, ratings) > gk.metrics.rmse(steady, ratings)
# --8<-- [end:two_models]

# --8<-- [start:inequality]
# RMSE >= MAE on any errors whatever, with RMSE^2 - MAE^2 = the variance of |error|.
trials = 200 if FAST else 20000
for _ in range(trials):
    size = rng.integers(1, 50)
    prediction, target = rng.standard_cauchy(size), rng.normal(0, rng.uniform(0.1, 10), size)
    mae, rmse = gk.metrics.mae(prediction, target), gk.metrics.rmse(prediction, target)
    assert mae <= rmse * (1 + 1e-12) and rmse <= np.sqrt(size) * mae * (1 + 1e-12)
    assert np.isclose(rmse**2 - mae**2, np.var(np.abs(prediction - target)))
# Equality exactly when every error has the same size.
same_size, zeros = np.array([0.5, -0.5, 0.5, -0.5]), np.zeros(4)
assert np.isclose(gk.metrics.mae(same_size, zeros), gk.metrics.rmse(same_size, zeros))
print(f"RMSE >= MAE held on {trials} random error vectors")
# --8<-- [end:inequality]

# --8<-- [start:best_constant]
# The best constant prediction: the mean for RMSE, the median for MAE.
candidates = np.linspace(1, 5, 4001)
best_for_rmse = candidates[np.argmin([gk.metrics.rmse(np.full(ratings.size, c), ratings)
                                      for c in candidates])]
best_for_mae = candidates[np.argmin([gk.metrics.mae(np.full(ratings.size, c), ratings)
                                     for c in candidates])]
print(f"best constant for RMSE {best_for_rmse:.3f} (mean {ratings.mean():.3f}); "
      f"for MAE {best_for_mae:.3f} (median {np.median(ratings):.0f})")
assert abs(best_for_rmse - ratings.mean()) < 1e-3 and best_for_mae == np.median(ratings)
# --8<-- [end:best_constant]

# The picture: the two models' errors, and what a single bad prediction does to each metric.
figure = Figure(figsize=(10, 3.8), layout="constrained")
left, right = figure.subplots(1, 2)
bins = np.linspace(-2.5, 2.5, 51)
left.hist(steady - ratings, bins=bins, alpha=0.6, label="steady")
left.hist(erratic - ratings, bins=bins, alpha=0.6, label="erratic")
left.set(title="prediction errors", xlabel="predicted - true (stars)", ylabel="ratings",
         yscale="log")
left.legend()
outlier = np.linspace(0, 4, 201)  # on a 1-5 scale, no error exceeds 4 stars
errors = np.full((outlier.size, 20), 0.5)
errors[:, 0] = outlier  # 19 errors of half a star and one that grows
right.plot(outlier, [gk.metrics.mae(e, 0 * e) for e in errors], label="MAE")
right.plot(outlier, [gk.metrics.rmse(e, 0 * e) for e in errors], label="RMSE")
right.set(title="19 errors of 0.5 stars, and one growing", xlabel="the one error (stars)",
          ylabel="metric (stars)")
right.grid(alpha=0.3)
right.legend()
figure.savefig(IMAGES / "10_metrics.png", dpi=100)
print(f"wrote {IMAGES / '10_metrics.png'}")
